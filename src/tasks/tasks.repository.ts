import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
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
} from './task-statements';

type ListRow = TaskDto & { cursorValue: string };

/** One page: its tasks, and the keyset position after the last one when another page follows. */
export interface TaskPage {
  tasks: TaskDto[];
  next?: { value: string; id: string };
}

/**
 * The owner's tasks, through the statements of task-statements.ts. They are raw SQL because TypeORM's
 * query builder can express neither the keyset row comparison nor the full-text expression the indexes
 * are built on, and they run as named prepared statements (see Sql), the hottest path of the service.
 */
@Injectable()
export class TasksRepository {
  constructor(private readonly sql: Sql) {}

  async list(userId: string, request: ListRequest): Promise<TaskPage> {
    const rows = await this.rows<ListRow>(listStatement(userId, request));
    const { limit } = request;
    const last = rows.length > limit ? rows[limit - 1] : undefined;
    return { tasks: rows.slice(0, limit).map(TaskDto.from), next: last && { value: last.cursorValue, id: last.id } };
  }

  async findOne(userId: string, id: string): Promise<TaskDto | undefined> {
    return this.task(findOneStatement(userId, id));
  }

  async stats(userId: string): Promise<TaskStatsDto> {
    const [{ total, completed, pending, overdue }] = await this.rows<TaskStatsDto>(statsStatement(userId));
    return { total, completed, pending, overdue };
  }

  async insert(userId: string, id: string, task: CreateTaskDto): Promise<TaskDto> {
    return (await this.task(insertStatement(id, userId, task)))!;
  }

  /** Inside a transaction of the caller's (the idempotent create). */
  async insertWith(manager: EntityManager, id: string, userId: string, task: CreateTaskDto): Promise<TaskDto> {
    const { text, values } = insertStatement(id, userId, task);
    const rows: TaskDto[] = await manager.query(text, values);
    return TaskDto.from(rows[0]);
  }

  async update(userId: string, id: string, changes: UpdateTaskDto, versions?: number[]): Promise<TaskDto | undefined> {
    return this.task(updateStatement(userId, id, changes, versions));
  }

  async toggle(userId: string, id: string, versions?: number[]): Promise<TaskDto | undefined> {
    return this.task(toggleStatement(userId, id, versions));
  }

  async delete(userId: string, id: string, versions?: number[]): Promise<boolean> {
    return (await this.sql.query(deleteStatement(userId, id, versions))).rowCount > 0;
  }

  async exists(userId: string, id: string): Promise<boolean> {
    return (await this.sql.query(existsStatement(userId, id))).rowCount > 0;
  }

  private async rows<T>(statement: Statement): Promise<T[]> {
    return (await this.sql.query<T>(statement)).rows;
  }

  private async task(statement: Statement): Promise<TaskDto | undefined> {
    const [row] = await this.rows<TaskDto>(statement);
    return row && TaskDto.from(row);
  }
}
