import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { STATUS_CODES } from 'node:http';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

export class FieldErrorDto {
  /** The offending field, as a dotted path (`dueDate`, `items.0.title`); empty for the body as a whole. */
  @ApiProperty({ example: 'title' })
  field: string;

  @ApiProperty({ example: 'title must be shorter than or equal to 200 characters' })
  message: string;
}

/** RFC 9457 problem details: the body of every non-2xx response. */
export class ProblemDetailsDto {
  @ApiProperty({
    example: 'about:blank',
    description:
      'about:blank, where the status code says what kind of problem it is, or a URI naming a problem the ' +
      'client can act on (e.g. urn:tasks-api:problem:reauthentication-required: sign in again).',
  })
  type: string;

  @ApiProperty({ example: 'Not Found', description: 'The HTTP reason phrase of `status`, or the summary of `type`.' })
  title: string;

  @ApiProperty({ example: 404 })
  status: number;

  @ApiProperty({ example: 'Task 0193d6c2-7d4e-7c1a-9f1e-3c2b1a0f9e8d not found' })
  detail: string;

  @ApiProperty({ example: '/api/v1/tasks/0193d6c2-7d4e-7c1a-9f1e-3c2b1a0f9e8d', description: 'The request path.' })
  instance: string;

  @ApiProperty({
    example: '2f1c3a9e-5b7d-4c8a-9e0f-1a2b3c4d5e6f',
    description: 'Also in the X-Request-Id header and the logs.',
  })
  requestId: string;
}

export class ValidationProblemDto extends ProblemDetailsDto {
  @ApiPropertyOptional({ type: [FieldErrorDto], description: 'Present on 400 responses from validation.' })
  errors?: FieldErrorDto[];
}

export type ProblemDetails = ProblemDetailsDto & { errors?: FieldErrorDto[]; [extension: string]: unknown };

/** A problem's own kind (TypedProblemException); without one, about:blank and the status' reason phrase. */
export interface ProblemType {
  type: string;
  title: string;
}

/** The one builder of an RFC 9457 body. */
export function problemBody(
  status: number,
  detail: string,
  {
    instance,
    requestId,
    extensions,
    kind,
  }: { instance: string; requestId: string; extensions?: Record<string, unknown>; kind?: ProblemType },
): ProblemDetails {
  return {
    type: kind?.type ?? 'about:blank',
    title: kind?.title ?? STATUS_CODES[status] ?? 'Error',
    status,
    detail,
    instance,
    requestId,
    ...extensions,
  };
}

/** Answers with an RFC 9457 problem. */
export function sendProblem(
  request: FastifyRequest,
  reply: FastifyReply,
  status: number,
  detail: string,
  options: { headers?: Record<string, string>; extensions?: Record<string, unknown>; kind?: ProblemType } = {},
): void {
  const requestId = String(request.id);
  const body = problemBody(status, detail, {
    instance: request.url.split('?')[0],
    requestId,
    extensions: options.extensions,
    kind: options.kind,
  });
  // RFC 6750: a 401 names the scheme the client should authenticate with.
  const challenge = status === 401 ? { 'www-authenticate': 'Bearer' } : {};
  void reply
    .status(status)
    .headers({ ...challenge, ...options.headers, 'content-type': PROBLEM_CONTENT_TYPE, 'x-request-id': requestId })
    .send(body);
}
