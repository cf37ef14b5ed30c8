import { BadRequestException, Injectable, NotFoundException, PreconditionFailedException } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { v7 as uuidv7 } from 'uuid';
import type { AuthUser } from '../auth/auth-user';
import { confirmSession } from '../auth/session-in-query';
import type { AppConfig } from '../config/configuration';
import type { CreateTaskDto } from './dto/create-task.dto';
import type { ListTasksQueryDto } from './dto/list-tasks-query.dto';
import type { TaskDto } from './dto/task.dto';
import type { TaskPageDto } from './dto/task-page.dto';
import type { TaskStatsDto } from './dto/task-stats.dto';
import type { UpdateTaskDto } from './dto/update-task.dto';
import { IdempotencyService, type IdempotentResult } from './idempotency.service';
import { TaskCursorCodec } from './task-cursor';
import { sortSpec } from './task-sort';
import { TasksRepository } from './tasks.repository';

@Injectable()
export class TasksService {
  private readonly cursors: TaskCursorCodec;

  constructor(
    private readonly tasks: TasksRepository,
    private readonly idempotency: IdempotencyService,
    config: ConfigService<AppConfig, true>,
  ) {
    this.cursors = new TaskCursorCodec(config.get('auth', { infer: true }).jwtSecret);
  }

  async create(userId: string, task: CreateTaskDto): Promise<TaskDto> {
    return this.tasks.insert(uuidv7(), userId, task);
  }

  /** A create under an Idempotency-Key: the first response, replayed to every retry of the same body. */
  createIdempotent(
    userId: string,
    key: string,
    rawBody: unknown,
    task: CreateTaskDto,
  ): Promise<IdempotentResult<TaskDto>> {
    const created = this.idempotency.run<TaskDto>(userId, key, rawBody, async (manager) => ({
      status: 201,
      body: await this.tasks.insert(uuidv7(), userId, task, manager),
    }));
    // jsonb reorders keys: replay the body with its fields in the order the first response had.
    return created.then((result) => ({ ...result, body: inFieldOrder(result.body) }));
  }

  async list(
    user: AuthUser,
    { completed, priority, dueBefore, dueAfter, q, sort, limit, cursor }: ListTasksQueryDto,
  ): Promise<TaskPageDto> {
    const after = cursor === undefined ? undefined : this.cursors.decode(cursor);
    if (cursor !== undefined && !after) throw new BadRequestException('cursor is not one this API issued');
    if (after && after.sort !== sort)
      throw new BadRequestException(`cursor belongs to sort=${after.sort}, not sort=${sort}`);

    const spec = sortSpec(sort);
    const { active, result } = await this.tasks.list(user, {
      filter: { completed, priority, dueBefore, dueAfter, q },
      sort: spec,
      after,
      limit,
    });
    confirmSession(user, active);
    const { rows, more } = result;
    const last = rows.at(-1);
    return {
      items: rows.map(({ cursorValue: _cursorValue, ...task }) => task),
      nextCursor: more && last ? this.cursors.encode({ sort, value: last.cursorValue!, id: last.id }) : null,
    };
  }

  stats(userId: string): Promise<TaskStatsDto> {
    return this.tasks.stats(userId);
  }

  async findOne(user: AuthUser, id: string): Promise<TaskDto> {
    const { active, result } = await this.tasks.findOne(user, id);
    confirmSession(user, active);
    return result ?? notFound(id);
  }

  async update(userId: string, id: string, changes: UpdateTaskDto, versions?: number[]): Promise<TaskDto> {
    return (await this.tasks.update(userId, id, changes, versions)) ?? this.explainMiss(userId, id, versions);
  }

  async toggle(userId: string, id: string, versions?: number[]): Promise<TaskDto> {
    return (await this.tasks.toggle(userId, id, versions)) ?? this.explainMiss(userId, id, versions);
  }

  async remove(userId: string, id: string, versions?: number[]): Promise<void> {
    if (!(await this.tasks.delete(userId, id, versions))) await this.explainMiss(userId, id, versions);
  }

  /** A conditional write touched nothing: the task is gone (404) or has moved on (412). */
  private async explainMiss(userId: string, id: string, versions?: number[]): Promise<never> {
    if (versions && (await this.tasks.exists(userId, id))) {
      throw new PreconditionFailedException('The task has changed since the ETag in If-Match; fetch it again');
    }
    return notFound(id);
  }
}

const TASK_FIELDS = [
  'id',
  'title',
  'description',
  'completed',
  'completedAt',
  'dueDate',
  'priority',
  'createdAt',
  'updatedAt',
  'version',
] as const;

function inFieldOrder(task: TaskDto): TaskDto {
  return Object.fromEntries(TASK_FIELDS.map((field) => [field, task[field]])) as unknown as TaskDto;
}

function notFound(id: string): never {
  throw new NotFoundException(`Task ${id} not found`);
}
