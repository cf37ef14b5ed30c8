import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { AuthUser } from '../auth/auth-user';
import type { SessionRead } from '../auth/session-in-query';
import { Sql, type Statement } from '../database/sql';
import type { CreateTaskDto } from './dto/create-task.dto';
import { TaskDto } from './dto/task.dto';
import type { TaskStatsDto } from './dto/task-stats.dto';
import type { UpdateTaskDto } from './dto/update-task.dto';
import {
  deleteStatement,
  existsStatement,
  findOneStatement,
  insertStatement,
  listStatement,
  type ListRequest,
  statsStatement,
  toggleStatement,
  updateStatement,
  withSessionCheck,
} from './task-statements';

type ListRow = TaskDto & { cursorValue: string };

/** One page: its tasks, and the keyset position after the last one when another page follows. */
export interface TaskPage {
  tasks: TaskDto[];
  next?: { value: string; id: string };
}

/**
 * Runs the statements of src/tasks/task-statements.ts. Each route's statement carries the check of the
 * caller's session (one round trip instead of two); the guard left it to the route (see
 * SessionCheckedByQuery).
 */
@Injectable()
export class TasksRepository {
  constructor(private readonly sql: Sql) {}

  async list(user: AuthUser, request: ListRequest): Promise<SessionRead<TaskPage>> {
    const { active, rows } = await this.inSession<ListRow>(user, (gate) => listStatement(user.id, request, gate));
    const { limit } = request;
    const last = rows.length > limit ? rows[limit - 1] : undefined;
    return {
      active,
      result: {
        tasks: rows.slice(0, limit).map(TaskDto.from),
        next: last && { value: last.cursorValue, id: last.id },
      },
    };
  }

  async findOne(user: AuthUser, id: string): Promise<SessionRead<TaskDto | undefined>> {
    return this.task(await this.inSession<TaskDto>(user, (gate) => findOneStatement(user.id, id, gate)));
  }

  async stats(user: AuthUser): Promise<SessionRead<TaskStatsDto>> {
    const { active, rows } = await this.inSession<TaskStatsDto>(user, (gate) => statsStatement(user.id, gate), 'total');
    const { total, completed, pending, overdue } = rows[0] ?? { total: 0, completed: 0, pending: 0, overdue: 0 };
    return { active, result: { total, completed, pending, overdue } };
  }

  async insert(user: AuthUser, id: string, task: CreateTaskDto): Promise<SessionRead<TaskDto | undefined>> {
    return this.task(await this.inSession<TaskDto>(user, (gate) => insertStatement(id, user.id, task, gate)));
  }

  /** Inside a transaction of the caller's (the idempotent create), whose session is already checked. */
  async insertWith(manager: EntityManager, id: string, userId: string, task: CreateTaskDto): Promise<TaskDto> {
    const { text, values } = insertStatement(id, userId, task);
    const rows: TaskDto[] = await manager.query(text, values);
    return TaskDto.from(rows[0]);
  }

  async update(
    user: AuthUser,
    id: string,
    changes: UpdateTaskDto,
    versions?: number[],
  ): Promise<SessionRead<TaskDto | undefined>> {
    return this.task(
      await this.inSession<TaskDto>(user, (gate) => updateStatement(user.id, id, changes, versions, gate)),
    );
  }

  async toggle(user: AuthUser, id: string, versions?: number[]): Promise<SessionRead<TaskDto | undefined>> {
    return this.task(await this.inSession<TaskDto>(user, (gate) => toggleStatement(user.id, id, versions, gate)));
  }

  async delete(user: AuthUser, id: string, versions?: number[]): Promise<SessionRead<boolean>> {
    const { active, rows } = await this.inSession<{ id: string }>(user, (gate) =>
      deleteStatement(user.id, id, versions, gate),
    );
    return { active, result: rows.length > 0 };
  }

  async exists(userId: string, id: string): Promise<boolean> {
    return (await this.sql.query(existsStatement(userId, id))).rowCount > 0;
  }

  /**
   * The statement gated by the session check. `key` is a column every row of the statement has a value
   * in, to tell its rows from the row of nulls that stands for none. Rows still carry `sessionActive`
   * (and list rows `cursorValue`): callers map them to their DTOs.
   */
  private async inSession<T extends object>(
    user: AuthUser,
    statement: (gate: string) => Statement,
    key = 'id',
  ): Promise<{ active: boolean; rows: T[] }> {
    const { rows } = await this.sql.query<T & { sessionActive: boolean }>(
      withSessionCheck(statement, user.id, user.sessionId),
    );
    return {
      active: rows[0]?.sessionActive === true,
      rows: rows[0]?.[key as keyof T] === null ? [] : rows,
    };
  }

  private task({ active, rows }: { active: boolean; rows: TaskDto[] }): SessionRead<TaskDto | undefined> {
    return { active, result: rows[0] && TaskDto.from(rows[0]) };
  }
}
