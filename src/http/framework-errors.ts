import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyReply, FastifyRequest, FastifyServerOptions } from 'fastify';
import { PROBLEM_CONTENT_TYPE, sendProblem } from './problem-details';

const DETAILS: Record<string, string> = {
  FST_ERR_BAD_URL: 'The URL is not valid (a malformed percent-encoding?)',
  FST_ERR_MAX_PARAM_LENGTH: 'A path segment is too long',
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
      sendProblem(request, reply, status, DETAILS[error.code] ?? STATUS_CODES[status] ?? 'Bad request');
    },
    // Requests Node's HTTP parser rejects (oversized headers, malformed request lines) never reach Fastify's
    // routing: answer them as problem+json on the raw socket, then close it.
    clientErrorHandler(error: NodeJS.ErrnoException, socket: Socket): void {
      if (error.code === 'ECONNRESET' || socket.destroyed || !socket.writable) return;
      const status = error.code === 'HPE_HEADER_OVERFLOW' ? 431 : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
      const requestId = randomUUID();
      const body = JSON.stringify({
        type: 'about:blank',
        title: STATUS_CODES[status],
        status,
        detail: status === 431 ? 'The request headers are too large' : 'The request could not be parsed',
        instance: '',
        requestId,
      });
      socket.end(
        `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: ${PROBLEM_CONTENT_TYPE}\r\n` +
          `Content-Length: ${Buffer.byteLength(body)}\r\nX-Request-Id: ${requestId}\r\n${rawHeaders}` +
          `Connection: close\r\n\r\n${body}`,
      );
    },
  };
}
