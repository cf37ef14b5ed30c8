import type { FastifyInstance, FastifyRequest } from 'fastify';
import pino, { type Logger } from 'pino';
import type { HttpConfig } from '../config/app.config';

// Never logged: credentials in headers, and any password or token field that reaches a log call.
const REDACT = [
  'headers.authorization',
  'headers.cookie',
  '*.password',
  '*.currentPassword',
  '*.newPassword',
  '*.passwordHash',
  '*.accessToken',
  '*.refreshToken',
  '*.token',
];

/**
 * The process' one pino logger: JSON lines on stdout, used by Nest (via nestjs-pino) and the access log.
 * Writes are asynchronous: the event loop does not wait for stdout, and lines that pile up while a write
 * is in flight leave together. pino flushes what is pending when the process exits (also on a crash);
 * only a SIGKILL can lose the last lines.
 */
export function createRootLogger(http: HttpConfig): Logger {
  return pino(
    {
      level: http.logLevel,
      base: { pid: process.pid },
      redact: { paths: REDACT, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    pino.destination({ dest: 1, sync: false }),
  );
}

/**
 * One line per request, for every request Fastify answers (API routes, 404s, docs, body-parser errors):
 * request id, method, route template, status and duration. The URL is logged without its query string.
 */
export function registerAccessLog(fastify: FastifyInstance, root: Logger): void {
  // Its entries are flat and built here from the method, route, path and status (never headers or
  // bodies), so the redaction paths could never match: skip evaluating them on every request.
  const logger = root.child({}, { redact: [] });
  fastify.addHook('onResponse', (request, reply, done) => {
    const status = reply.statusCode;
    const entry = {
      reqId: request.id,
      ...loggedRequest(request),
      status,
      durationMs: Math.round(reply.elapsedTime * 10) / 10,
    };
    const message = `${request.method} ${entry.route ?? entry.path} ${status}`;
    if (status >= 500) logger.error(entry, message);
    else logger.info(entry, message);
    done();
  });
}

/**
 * All a log line says about a request: the route template and the path. Never the query string (search
 * terms, cursors, tokens), headers or body.
 */
export function loggedRequest(request: FastifyRequest): { method: string; route?: string; path: string } {
  return { method: request.method, route: request.routeOptions.url, path: request.url.split('?')[0] };
}
