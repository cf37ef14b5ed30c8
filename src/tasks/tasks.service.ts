import { BadRequestException, Injectable, NotFoundException, PreconditionFailedException } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { v7 as uuidv7 } from 'uuid';
import type { AuthUser } from '../common/auth-user';
import type { AppConfig } from '../config/configuration';
import type { CreateTaskDto } from './dto/create-task.dto';
import type { ListTasksQueryDto } from './dto/list-tasks-query.dto';
import { TaskDto } from './dto/task.dto';
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

  async create(user: AuthUser, task: CreateTaskDto): Promise<TaskDto> {
    return this.tasks.insert(user.id, uuidv7(), task);
  }

  /** A create under an Idempotency-Key: the first response, replayed to every retry of the same body. */
  async createIdempotent(
    user: AuthUser,
    key: string,
    rawBody: unknown,
    task: CreateTaskDto,
  ): Promise<IdempotentResult<TaskDto>> {
    const result = await this.idempotency.run<TaskDto>(user.id, key, rawBody, async (manager) => ({
      status: 201,
      body: await this.tasks.insertWith(manager, uuidv7(), user.id, task),
    }));
    // jsonb reorders keys: replay the body with its fields in the order the first response had.
    return { ...result, body: TaskDto.from(result.body) };
  }

  async list(
    user: AuthUser,
    { completed, priority, dueBefore, dueAfter, q, sort, limit, cursor }: ListTasksQueryDto,
  ): Promise<TaskPageDto> {
    const after = cursor === undefined ? undefined : this.cursors.decode(cursor);
    if (cursor !== undefined && !after) throw new BadRequestException('cursor is not one this API issued');
    if (after && after.sort !== sort)
      throw new BadRequestException(`cursor belongs to sort=${after.sort}, not sort=${sort}`);

    const { tasks, next } = await this.tasks.list(user.id, {
      filter: { completed, priority, dueBefore, dueAfter, q },
      sort: sortSpec(sort),
      after,
      limit,
    });
    return { items: tasks, nextCursor: next ? this.cursors.encode({ sort, ...next }) : null };
  }

  async stats(user: AuthUser): Promise<TaskStatsDto> {
    return this.tasks.stats(user.id);
  }

  async findOne(user: AuthUser, id: string): Promise<TaskDto> {
    return (await this.tasks.findOne(user.id, id)) ?? notFound(id);
  }

  async update(user: AuthUser, id: string, changes: UpdateTaskDto, versions?: number[]): Promise<TaskDto> {
    return (await this.tasks.update(user.id, id, changes, versions)) ?? this.explainMiss(user.id, id, versions);
  }

  async toggle(user: AuthUser, id: string, versions?: number[]): Promise<TaskDto> {
    return (await this.tasks.toggle(user.id, id, versions)) ?? this.explainMiss(user.id, id, versions);
  }

  async remove(user: AuthUser, id: string, versions?: number[]): Promise<void> {
    if (!(await this.tasks.delete(user.id, id, versions))) await this.explainMiss(user.id, id, versions);
  }

  /** A conditional write touched nothing: the task is gone (404) or has moved on (412). */
  private async explainMiss(userId: string, id: string, versions?: number[]): Promise<never> {
    if (versions && (await this.tasks.exists(userId, id))) {
      throw new PreconditionFailedException('The task has changed since the ETag in If-Match; fetch it again');
    }
    return notFound(id);
  }
}

function notFound(id: string): never {
  throw new NotFoundException(`Task ${id} not found`);
}
