import {
  BadRequestException,
  Body,
  Controller,
  Delete,
  Get,
  Headers,
  HttpCode,
  HttpStatus,
  Param,
  ParseUUIDPipe,
  Patch,
  Post,
  Query,
  Req,
  Res,
} from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiHeader,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiParam,
  ApiPreconditionFailedResponse,
  ApiTags,
  ApiUnauthorizedResponse,
  ApiUnprocessableEntityResponse,
} from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AuthUser } from '../common/auth-user';
import { CurrentUser } from '../common/current-user.decorator';
import { ProblemDetailsDto, ValidationProblemDto } from '../http/problem-details';
import { RequireBody } from '../http/require-body.pipe';
import { CreateTaskDto } from './dto/create-task.dto';
import { ListTasksQueryDto } from './dto/list-tasks-query.dto';
import { TaskDto } from './dto/task.dto';
import { TaskPageDto } from './dto/task-page.dto';
import { TaskStatsDto } from './dto/task-stats.dto';
import { UpdateTaskDto } from './dto/update-task.dto';
import { etag, parseIfMatch } from './if-match';
import { TasksService } from './tasks.service';

const IF_MATCH = ApiHeader({
  name: 'If-Match',
  required: false,
  description: 'Apply only if the task is still at one of these ETags (e.g. `"3"`, or `*`); otherwise 412.',
  schema: { type: 'string', example: '"3"' },
});
const TASK_ID_PARAM = ApiParam({ name: 'id', description: 'The task id.', schema: { type: 'string', format: 'uuid' } });
const BAD_ID = ApiBadRequestResponse({
  type: ValidationProblemDto,
  description: 'The task id is not a UUID, If-Match is not a list of ETags, or the query or body is invalid.',
});
const NOT_FOUND = ApiNotFoundResponse({ type: ProblemDetailsDto, description: 'No such task, or not yours.' });
const STALE = ApiPreconditionFailedResponse({
  type: ProblemDetailsDto,
  description: 'If-Match names an older version.',
});
const ETAG = {
  ETag: {
    description: 'The task’s version in quotes (e.g. `"3"`): send it back in If-Match.',
    required: true,
    schema: { type: 'string' },
  },
};
const CREATED_HEADERS = {
  ...ETAG,
  Location: { description: 'The new task’s URL.', required: true, schema: { type: 'string' } },
  'Idempotent-Replayed': {
    description: '`true` when this is the stored first response to a retried Idempotency-Key.',
    required: false,
    schema: { type: 'string', enum: ['true'] },
  },
};
const TASK_ID = new ParseUUIDPipe({
  exceptionFactory: () => new BadRequestException('The task id must be a UUID'),
});

@ApiTags('tasks')
@ApiBearerAuth()
@ApiUnauthorizedResponse({ type: ProblemDetailsDto, description: 'Missing, invalid, expired or revoked access token.' })
@Controller('tasks')
export class TasksController {
  constructor(private readonly tasks: TasksService) {}

  /** Creates a task. With `Idempotency-Key`, retries of the same body return the first response. */
  @Post()
  @ApiHeader({
    name: 'Idempotency-Key',
    required: false,
    description: 'Remembered for 24 h per user: a retry with the same body gets the first response.',
    schema: { type: 'string', minLength: 1, maxLength: 255 },
  })
  @ApiCreatedResponse({
    type: TaskDto,
    description: 'Created (or the first response, replayed).',
    headers: CREATED_HEADERS,
  })
  @ApiBadRequestResponse({
    type: ValidationProblemDto,
    description: 'An invalid body, or an Idempotency-Key not 1–255 characters.',
  })
  @ApiConflictResponse({ type: ProblemDetailsDto, description: 'A request with this Idempotency-Key is in flight.' })
  @ApiUnprocessableEntityResponse({ type: ProblemDetailsDto, description: 'Idempotency-Key reused with another body.' })
  async create(
    @CurrentUser() user: AuthUser,
    @Body() body: CreateTaskDto,
    @Headers('idempotency-key') key: string | undefined,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<TaskDto> {
    if (key === undefined) return withTaskHeaders(reply, await this.tasks.create(user, body), true);
    if (key.length < 1 || key.length > 255) throw new BadRequestException('Idempotency-Key must be 1–255 characters');
    const result = await this.tasks.createIdempotent(user, key, request.body, body);
    if (result.replayed) reply.header('idempotent-replayed', 'true');
    reply.status(result.status);
    return withTaskHeaders(reply, result.body, true);
  }

  /** Lists the caller's tasks, filtered and sorted, one keyset page at a time. */
  @Get()
  @ApiOkResponse({ type: TaskPageDto })
  list(@CurrentUser() user: AuthUser, @Query() query: ListTasksQueryDto): Promise<TaskPageDto> {
    return this.tasks.list(user, query);
  }

  /** Counts of the caller's tasks. */
  @Get('stats')
  @ApiOkResponse({ type: TaskStatsDto })
  stats(@CurrentUser() user: AuthUser): Promise<TaskStatsDto> {
    return this.tasks.stats(user);
  }

  /** One of the caller's tasks. */
  @Get(':id')
  @TASK_ID_PARAM
  @ApiOkResponse({ type: TaskDto, description: 'The task.', headers: ETAG })
  @BAD_ID
  @NOT_FOUND
  async findOne(
    @CurrentUser() user: AuthUser,
    @Param('id', TASK_ID) id: string,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<TaskDto> {
    return withTaskHeaders(reply, await this.tasks.findOne(user, id));
  }

  /** Changes some fields; `null` clears `description` or `dueDate`. */
  @Patch(':id')
  @TASK_ID_PARAM
  @IF_MATCH
  @ApiOkResponse({ type: TaskDto, description: 'The task as changed.', headers: ETAG })
  @BAD_ID
  @NOT_FOUND
  @STALE
  async update(
    @CurrentUser() user: AuthUser,
    @Param('id', TASK_ID) id: string,
    @Body(RequireBody) changes: UpdateTaskDto,
    @Headers('if-match') ifMatch: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<TaskDto> {
    return withTaskHeaders(reply, await this.tasks.update(user, id, changes, parseIfMatch(ifMatch)));
  }

  /** Flips `completed` atomically. */
  @Post(':id/toggle')
  @HttpCode(HttpStatus.OK)
  @TASK_ID_PARAM
  @IF_MATCH
  @ApiOkResponse({ type: TaskDto, description: 'The task as changed.', headers: ETAG })
  @BAD_ID
  @NOT_FOUND
  @STALE
  async toggle(
    @CurrentUser() user: AuthUser,
    @Param('id', TASK_ID) id: string,
    @Headers('if-match') ifMatch: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<TaskDto> {
    return withTaskHeaders(reply, await this.tasks.toggle(user, id, parseIfMatch(ifMatch)));
  }

  /** Deletes one of the caller's tasks. */
  @Delete(':id')
  @HttpCode(HttpStatus.NO_CONTENT)
  @TASK_ID_PARAM
  @IF_MATCH
  @ApiNoContentResponse({ description: 'Deleted.' })
  @BAD_ID
  @NOT_FOUND
  @STALE
  remove(
    @CurrentUser() user: AuthUser,
    @Param('id', TASK_ID) id: string,
    @Headers('if-match') ifMatch: string | undefined,
  ): Promise<void> {
    return this.tasks.remove(user, id, parseIfMatch(ifMatch));
  }
}

function withTaskHeaders(reply: FastifyReply, task: TaskDto, created = false): TaskDto {
  reply.header('etag', etag(task.version));
  if (created) reply.header('location', `/api/v1/tasks/${task.id}`);
  return task;
}
