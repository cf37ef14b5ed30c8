import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import type { CreateTaskDto } from './dto/create-task.dto';
import type { TaskDto } from './dto/task.dto';
import type { TaskStatsDto } from './dto/task-stats.dto';
import type { UpdateTaskDto } from './dto/update-task.dto';
import type { AuthUser } from '../auth/auth-user';
import {
  COLUMNS,
  findOneStatement,
  listStatement,
  type ListRequest,
  type Statement,
  withSessionCheck,
} from './task-statements';

type Row = TaskDto & { cursorValue?: string };

/** A read folded with the caller's session check: `active` false means the session has ended. */
export interface SessionRead<T> {
  active: boolean;
  result: T;
}

/**
 * Every statement on `tasks`, as parameterized SQL with explicit columns, and each one scoped by the
 * owner's id: another user's task is simply not found.
 */
@Injectable()
export class TasksRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async insert(id: string, userId: string, task: CreateTaskDto, manager?: EntityManager): Promise<TaskDto> {
    const rows: TaskDto[] = await (manager ?? this.dataSource).query(
      `INSERT INTO tasks AS t (id, user_id, title, description, due_date, priority, completed, completed_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, CASE WHEN $7 THEN now() END)
       RETURNING ${COLUMNS}`,
      [
        id,
        userId,
        task.title,
        task.description ?? null,
        task.dueDate ?? null,
        task.priority ?? 'medium',
        task.completed ?? false,
      ],
    );
    return rows[0];
  }

  /** One of the caller's tasks, in the same statement as the check of the caller's session. */
  async findOne(user: AuthUser, id: string): Promise<SessionRead<TaskDto | undefined>> {
    const { active, rows } = await this.inSession<TaskDto>(user, findOneStatement(user.id, id));
    return { active, result: rows[0] };
  }

  /** One page in keyset order, in the same statement as the check of the caller's session. */
  async list(user: AuthUser, request: ListRequest): Promise<SessionRead<{ rows: Row[]; more: boolean }>> {
    const { active, rows } = await this.inSession<Row>(user, listStatement(user.id, request));
    return { active, result: { rows: rows.slice(0, request.limit), more: rows.length > request.limit } };
  }

  /** Counts in one pass over the owner's (user_id, completed, due_date) index. */
  async stats(userId: string): Promise<TaskStatsDto> {
    const rows: TaskStatsDto[] = await this.dataSource.query(
      `SELECT count(*)::int AS total,
              count(*) FILTER (WHERE t.completed)::int AS completed,
              count(*) FILTER (WHERE NOT t.completed)::int AS pending,
              count(*) FILTER (WHERE NOT t.completed AND t.due_date < (now() AT TIME ZONE 'UTC')::date)::int AS overdue
       FROM tasks t WHERE t.user_id = $1`,
      [userId],
    );
    return rows[0];
  }

  /**
   * Applies the given fields and bumps the version, in one statement, only if the task is the owner's
   * and (with `versions`) still at one of those versions. `completedAt` follows `completed`, keeping the
   * original time when a completed task is completed again.
   */
  async update(userId: string, id: string, changes: UpdateTaskDto, versions?: number[]): Promise<TaskDto | undefined> {
    const params: unknown[] = [id, userId];
    const param = (value: unknown) => `$${params.push(value)}`;
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
    return this.updateWhere(set, params, versions);
  }

  /** Flips `completed` under the row lock, so concurrent toggles serialize and none is lost. */
  toggle(userId: string, id: string, versions?: number[]): Promise<TaskDto | undefined> {
    return this.updateWhere(
      [
        'completed = NOT t.completed',
        'completed_at = CASE WHEN t.completed THEN NULL ELSE now() END',
        'version = t.version + 1',
      ],
      [id, userId],
      versions,
    );
  }

  async delete(userId: string, id: string, versions?: number[]): Promise<boolean> {
    const params: unknown[] = [id, userId];
    const versionCheck = versions ? ` AND t.version = ANY($${params.push(versions)}::int[])` : '';
    const [, affected] = (await this.dataSource.query(
      `DELETE FROM tasks t WHERE t.id = $1 AND t.user_id = $2${versionCheck}`,
      params,
    )) as [unknown, number];
    return affected > 0;
  }

  async exists(userId: string, id: string): Promise<boolean> {
    const rows: unknown[] = await this.dataSource.query('SELECT 1 FROM tasks t WHERE t.id = $1 AND t.user_id = $2', [
      id,
      userId,
    ]);
    return rows.length > 0;
  }

  private async inSession<T extends { id: string }>(
    user: AuthUser,
    statement: Statement,
  ): Promise<{ active: boolean; rows: T[] }> {
    const { text, values } = withSessionCheck(statement, user.id, user.sessionId);
    const rows: (T & { sessionActive: boolean })[] = await this.dataSource.query(text, values);
    return {
      active: rows[0]?.sessionActive === true,
      rows: rows.filter((row) => row.id !== null).map(({ sessionActive: _active, ...row }) => row as unknown as T),
    };
  }

  private async updateWhere(set: string[], params: unknown[], versions?: number[]): Promise<TaskDto | undefined> {
    const versionCheck = versions ? ` AND t.version = ANY($${params.push(versions)}::int[])` : '';
    const [rows] = (await this.dataSource.query(
      `UPDATE tasks AS t SET ${set.join(', ')} WHERE t.id = $1 AND t.user_id = $2${versionCheck} RETURNING ${COLUMNS}`,
      params,
    )) as [TaskDto[], number];
    return rows[0];
  }
}
