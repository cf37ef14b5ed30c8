import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, HttpStatus, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { STATUS_CODES } from 'node:http';
import { classifyDatabaseError, type DatabaseFailure, sqlState } from '../database/database-errors';
import { DatabaseProbe } from '../database/database.probe';
import { FASTIFY_DETAILS } from './framework-errors';
import { loggedRequest } from './logger';
import { type ProblemType, sendProblem } from './problem-details';
import { RateLimitedException } from './rate-limited.exception';
import { TypedProblemException } from './typed-problem.exception';
import { ValidationFailedException } from './validation';

interface Problem {
  status: number;
  detail: string;
  headers?: Record<string, string>;
  extensions?: Record<string, unknown>;
  kind?: ProblemType;
}

const DATABASE_PROBLEMS: Record<DatabaseFailure, Problem> = {
  unavailable: { status: 503, detail: 'The database is unavailable; retry shortly', headers: { 'retry-after': '2' } },
  timeout: {
    status: 503,
    detail: 'The database did not answer in time; retry shortly',
    headers: { 'retry-after': '2' },
  },
  saturated: { status: 503, detail: 'The service is overloaded; retry shortly', headers: { 'retry-after': '1' } },
};

const INTERNAL_ERROR: Problem = {
  status: 500,
  detail: 'An unexpected error occurred; quote the requestId when reporting it',
};

// The client's connection closed while its body was arriving (it hung up, or HTTP_REQUEST_TIMEOUT_MS cut it
// off with a 408): the request stream's ECONNRESET says nothing about the database, and no one is listening.
const CLIENT_ABORTED: Problem = { status: 400, detail: 'The request was aborted before its body arrived' };

/**
 * Where every exception raised while a request is handled (validation, guards, services, Fastify's body
 * parser, the database) becomes RFC 9457 problem+json with the request id; the answers made outside Nest
 * (framework-errors.ts, shutdown, the metrics listener) use the same builder. Internals (stacks, SQL,
 * driver messages) are logged, never sent.
 */
@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  private readonly logger = new Logger('HTTP');

  constructor(private readonly database: DatabaseProbe) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const request = host.switchToHttp().getRequest<FastifyRequest>();
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    const aborted = exception instanceof Error && exception === request.raw.errored;
    const problem = aborted ? CLIENT_ABORTED : this.toProblem(exception);
    this.log(exception, problem, request);

    if (reply.sent) return;
    sendProblem(request, reply, problem.status, problem.detail, problem);
  }

  private toProblem(exception: unknown): Problem {
    if (exception instanceof ValidationFailedException) {
      return { status: 400, detail: exception.message, extensions: { errors: exception.errors } };
    }
    if (exception instanceof TypedProblemException) {
      return { ...fromHttpException(exception), kind: { type: exception.type, title: exception.title } };
    }
    if (exception instanceof RateLimitedException) {
      return { ...fromHttpException(exception), headers: { 'retry-after': String(exception.retryAfterSeconds) } };
    }
    if (exception instanceof HttpException) {
      // Nest wraps Fastify's own 4xx errors (body too large, bad media type, …) with the original as cause.
      const code = (exception.cause as { code?: unknown } | undefined)?.code;
      const known = typeof code === 'string' ? FASTIFY_DETAILS[code] : undefined;
      return known ? { status: exception.getStatus(), detail: known } : fromHttpException(exception);
    }

    const failure = classifyDatabaseError(exception);
    if (failure) {
      // Readiness stops trusting its last successful check; an overloaded pool says nothing about the database.
      if (failure !== 'saturated') this.database.invalidate();
      return DATABASE_PROBLEMS[failure];
    }
    const code = sqlState(exception);
    // Races the services do not pre-check (a concurrent insert of the same key, a parent row deleted in
    // between) are conflicts, not crashes.
    if (code === '23505' || code === '23503') {
      return { status: 409, detail: 'The request conflicts with the current state of the resource' };
    }
    // Text PostgreSQL cannot store, such as a NUL character (\u0000) in a string: the client's input.
    if (code === '22021' || code === '22P05') {
      return { status: 400, detail: 'The request contains characters that cannot be stored (e.g. \\u0000)' };
    }
    const { statusCode, code: fastifyCode } = (exception ?? {}) as { statusCode?: unknown; code?: unknown };
    if (typeof statusCode === 'number' && statusCode >= 400 && statusCode < 500) {
      const known = typeof fastifyCode === 'string' ? FASTIFY_DETAILS[fastifyCode] : undefined;
      const fallback = exception instanceof SyntaxError ? FASTIFY_DETAILS.FST_ERR_CTP_INVALID_JSON_BODY : undefined;
      return { status: statusCode, detail: known ?? fallback ?? STATUS_CODES[statusCode] ?? 'Bad request' };
    }
    return INTERNAL_ERROR;
  }

  private log(exception: unknown, problem: Problem, request: FastifyRequest): void {
    if (problem.status < 500) return;
    const context = { requestId: request.id, ...loggedRequest(request), err: describeError(exception) };
    if (problem.status === 500) this.logger.error(context, 'unhandled error');
    else if (!(exception instanceof HttpException)) this.logger.warn(context, problem.detail);
  }
}

function fromHttpException(exception: HttpException): Problem {
  const status = exception.getStatus();
  const response = exception.getResponse();
  if (typeof response === 'string') return { status, detail: response };
  const {
    statusCode: _statusCode,
    status: _status,
    message,
    error,
    ...extensions
  } = response as Record<string, unknown>;
  const detail = Array.isArray(message) ? message.join('; ') : typeof message === 'string' ? message : undefined;
  if (error !== undefined && typeof error !== 'string') extensions.error = error;
  return {
    status,
    detail: detail ?? (typeof error === 'string' ? error : (STATUS_CODES[status] ?? HttpStatus[status])),
    extensions,
  };
}

// Only what helps debugging: never a statement's parameters, which may hold secrets.
function describeError(error: unknown): Record<string, unknown> {
  if (!(error instanceof Error)) return { message: String(error) };
  return {
    type: error.name,
    message: error.message,
    code: sqlState(error) ?? (error as { code?: unknown }).code,
    stack: error.stack,
  };
}
