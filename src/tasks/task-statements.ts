import { activeSession } from '../sessions/active-session';
import type { Priority } from './task.entity';
import type { SortSpec } from './task-sort';

/**
 * The SQL of the task reads, as pure functions (no Nest, no database): TasksRepository runs them, and
 * test/tasks-indexes.e2e-spec.ts EXPLAINs these very statements.
 */

export interface Statement {
  text: string;
  values: unknown[];
}

/** Exactly the columns a TaskDto needs, named as its fields. */
export const COLUMNS = `t.id, t.title, t.description, t.completed, t.completed_at AS "completedAt", t.due_date AS "dueDate",
  t.priority, t.created_at AS "createdAt", t.updated_at AS "updatedAt", t.version`;

// Must match the expression of the tasks_search_idx GIN index, or the index is not used.
export const SEARCH_DOCUMENT = `to_tsvector('english'::regconfig, t.title || ' ' || COALESCE(t.description, ''))`;

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
  if (filter.q) where.push(`${SEARCH_DOCUMENT} @@ websearch_to_tsquery('english'::regconfig, ${param(filter.q)})`);
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

/**
 * The statement and the caller's session check in one round trip: the first column, `sessionActive`, says
 * whether the session still stands, and the statement's rows follow only if it does (`a.active` is a
 * one-time filter: for an ended session the statement does not even run). No rows give one row of nulls
 * (`id` null); an ended session gives one row with `sessionActive` false.
 */
export function withSessionCheck({ text, values }: Statement, userId: string, sessionId: string): Statement {
  const all = [...values, sessionId, userId];
  const check = activeSession(`$${all.length - 1}`, `$${all.length}`);
  return {
    text: `SELECT a.active AS "sessionActive", r.*
       FROM (SELECT EXISTS (SELECT 1 FROM sessions s WHERE ${check}) AS active) a
       LEFT JOIN LATERAL (SELECT * FROM (${text}) q WHERE a.active) r ON true`,
    values: all,
  };
}
