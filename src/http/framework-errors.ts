import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyReply, FastifyRequest, FastifyServerOptions } from 'fastify';
import { BODY_LIMIT_BYTES } from './json-body-parser';
import { PROBLEM_CONTENT_TYPE, problemBody, sendProblem } from './problem-details';

/** Fastify's own errors, reworded for API clients (by the router here, by the problem filter otherwise). */
export const FASTIFY_DETAILS: Record<string, string> = {
  FST_ERR_BAD_URL: 'The URL is not valid (a malformed percent-encoding?)',
  FST_ERR_MAX_PARAM_LENGTH: 'A path segment is too long',
  FST_ERR_CTP_BODY_TOO_LARGE: `The request body exceeds ${BODY_LIMIT_BYTES} bytes`,
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'Send the body as application/json',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'The body is empty although Content-Type is application/json',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'Content-Length does not match the body',
  FST_ERR_CTP_INVALID_JSON_BODY: 'The request body is not valid JSON',
};

/**
 * Fastify's `frameworkErrors` and `clientErrorHandler`: the answers made before any hook runs, so they carry
 * `securityHeaders` themselves.
 */
export function frameworkErrorHandlers(
  securityHeaders: Record<string, string>,
): Required<Pick<FastifyServerOptions, 'frameworkErrors' | 'clientErrorHandler'>> {
  const rawHeaders = Object.entries(securityHeaders)
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('');
  return {
    // Fastify's router answers a malformed or over-long URL itself, before any hook or filter, with a JSON
    // body of its own: this makes those answers problem+json like every other error.
    frameworkErrors(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
      const status = error.statusCode && error.statusCode >= 400 ? error.statusCode : 400;
      reply.headers(securityHeaders);
      sendProblem(request, reply, status, FASTIFY_DETAILS[error.code] ?? STATUS_CODES[status] ?? 'Bad request');
    },
    // Requests Node's HTTP parser rejects (oversized headers, malformed request lines) never reach Fastify's
    // routing: answer them as problem+json on the raw socket, then close it.
    clientErrorHandler(error: NodeJS.ErrnoException, socket: Socket): void {
      if (error.code === 'ECONNRESET' || socket.destroyed || !socket.writable) return;
      const status = error.code === 'HPE_HEADER_OVERFLOW' ? 431 : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
      const requestId = randomUUID();
      const detail = status === 431 ? 'The request headers are too large' : 'The request could not be parsed';
      const body = JSON.stringify(problemBody(status, detail, { instance: '', requestId }));
      socket.end(
        `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: ${PROBLEM_CONTENT_TYPE}\r\n` +
          `Content-Length: ${Buffer.byteLength(body)}\r\nX-Request-Id: ${requestId}\r\n${rawHeaders}` +
          `Connection: close\r\n\r\n${body}`,
      );
    },
  };
}
