import type { Statement } from '../database/sql';
import type { CreateTaskDto } from './dto/create-task.dto';
import type { UpdateTaskDto } from './dto/update-task.dto';
import type { Priority } from './task.entity';
import type { SortSpec } from './task-sort';

/**
 * The SQL of every route on `tasks`, as pure functions (no Nest, no database): TasksRepository runs it,
 * test/api/tasks/indexes.e2e-spec.ts and the bench EXPLAIN it, the bench's baseline runs its build. Each
 * statement is scoped by the owner's id, so another user's task is simply not found.
 */

export type { Statement };

/** Exactly the columns a TaskDto needs, named as its fields. */
export const COLUMNS = `t.id, t.title, t.description, t.completed, t.completed_at AS "completedAt", t.due_date AS "dueDate",
  t.priority, t.created_at AS "createdAt", t.updated_at AS "updatedAt", t.version`;

// Must match the expression of the tasks_search_idx GIN index, or the index is not used; the query's
// lexemes carry the same per-user bucket (see the BucketedSearchIndex migration).
export const SEARCH_DOCUMENT = 'tasks_search_document(t.user_id, t.title, t.description)';

export interface TaskFilter {
  completed?: boolean;
  priority?: Priority;
  dueBefore?: string;
  dueAfter?: string;
  q?: string;
}

export interface ListRequest {
  filter: TaskFilter;
  sort: SortSpec;
  after?: { value: string; id: string };
  limit: number;
}

/** One page of the owner's tasks in keyset order, with one extra row to learn whether another follows. */
export function listStatement(userId: string, { filter, sort, after, limit }: ListRequest): Statement {
  const values: unknown[] = [userId];
  const param = (value: unknown) => `$${values.push(value)}`;
  const where = ['t.user_id = $1'];
  if (filter.completed !== undefined) where.push(`t.completed = ${param(filter.completed)}`);
  if (filter.priority) where.push(`t.priority = ${param(filter.priority)}`);
  if (filter.dueBefore) where.push(`t.due_date < ${param(filter.dueBefore)}::date`);
  if (filter.dueAfter) where.push(`t.due_date > ${param(filter.dueAfter)}::date`);
  if (filter.q) where.push(`${SEARCH_DOCUMENT} @@ tasks_search_query($1, ${param(filter.q)})`);
  const direction = sort.descending ? 'DESC' : 'ASC';
  if (after) {
    where.push(
      `(${sort.expression}, t.id) ${sort.descending ? '<' : '>'} (${param(after.value)}::${sort.type}, ${param(after.id)}::uuid)`,
    );
  }
  const text = `SELECT ${COLUMNS}, ${sort.cursorValue} AS "cursorValue"
       FROM tasks t WHERE ${where.join(' AND ')}
       ORDER BY ${sort.expression} ${direction}, t.id ${direction}
       LIMIT ${param(limit + 1)}`;
  return { text, values };
}

/** One of the owner's tasks. */
export const findOneStatement = (userId: string, id: string): Statement => ({
  text: `SELECT ${COLUMNS} FROM tasks t WHERE t.id = $1 AND t.user_id = $2`,
  values: [id, userId],
});

/** Counts in one pass over the owner's (user_id, completed, due_date) index. */
export const statsStatement = (userId: string): Statement => ({
  text: `SELECT count(*)::int AS total,
              count(*) FILTER (WHERE t.completed)::int AS completed,
              count(*) FILTER (WHERE NOT t.completed)::int AS pending,
              count(*) FILTER (WHERE NOT t.completed AND t.due_date < (now() AT TIME ZONE 'UTC')::date)::int AS overdue
       FROM tasks t WHERE t.user_id = $1`,
  values: [userId],
});

/** A new task; `completedAt` is now if it is created completed. */
export const insertStatement = (id: string, userId: string, task: CreateTaskDto): Statement => ({
  text: `INSERT INTO tasks AS t (id, user_id, title, description, due_date, priority, completed, completed_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7::boolean, CASE WHEN $7::boolean THEN now() END)
       RETURNING ${COLUMNS}`,
  values: [
    id,
    userId,
    task.title,
    task.description ?? null,
    task.dueDate ?? null,
    task.priority ?? 'medium',
    task.completed ?? false,
  ],
});

/**
 * Applies the given fields and bumps the version, only if the task is the owner's and (with `versions`,
 * from If-Match) still at one of those versions. `completedAt` follows `completed`, keeping the original
 * time when a completed task is completed again.
 */
export function updateStatement(userId: string, id: string, changes: UpdateTaskDto, versions?: number[]): Statement {
  const values: unknown[] = [id, userId];
  const param = (value: unknown) => `$${values.push(value)}`;
  const set = ['version = t.version + 1'];
  if (changes.title !== undefined) set.push(`title = ${param(changes.title)}`);
  if (changes.description !== undefined) set.push(`description = ${param(changes.description)}`);
  if (changes.dueDate !== undefined) set.push(`due_date = ${param(changes.dueDate)}::date`);
  if (changes.priority !== undefined) set.push(`priority = ${param(changes.priority)}`);
  if (changes.completed !== undefined) {
    const completed = param(changes.completed);
    set.push(
      `completed = ${completed}`,
      `completed_at = CASE WHEN ${completed} THEN COALESCE(t.completed_at, now()) END`,
    );
  }
  return updateWhere(set, values, versions);
}

/** Flips `completed` under the row lock, so concurrent toggles serialize and none is lost. */
export const toggleStatement = (userId: string, id: string, versions?: number[]): Statement =>
  updateWhere(
    [
      'completed = NOT t.completed',
      'completed_at = CASE WHEN t.completed THEN NULL ELSE now() END',
      'version = t.version + 1',
    ],
    [id, userId],
    versions,
  );

export function deleteStatement(userId: string, id: string, versions?: number[]): Statement {
  const values: unknown[] = [id, userId];
  return {
    text: `DELETE FROM tasks t WHERE t.id = $1 AND t.user_id = $2${versionCheck(values, versions)} RETURNING t.id`,
    values,
  };
}

export const existsStatement = (userId: string, id: string): Statement => ({
  text: 'SELECT 1 FROM tasks t WHERE t.id = $1 AND t.user_id = $2',
  values: [id, userId],
});

function updateWhere(set: string[], values: unknown[], versions?: number[]): Statement {
  return {
    text: `UPDATE tasks AS t SET ${set.join(', ')}
       WHERE t.id = $1 AND t.user_id = $2${versionCheck(values, versions)} RETURNING ${COLUMNS}`,
    values,
  };
}

const versionCheck = (values: unknown[], versions?: number[]) =>
  versions ? ` AND t.version = ANY($${values.push(versions)}::int[])` : '';
