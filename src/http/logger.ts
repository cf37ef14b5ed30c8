import type { FastifyInstance } from 'fastify';
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

/** The process' one pino logger: JSON lines on stdout, used by Nest (via nestjs-pino) and the access log. */
export function createRootLogger(http: HttpConfig): Logger {
  return pino({
    level: http.logLevel,
    base: { pid: process.pid },
    redact: { paths: REDACT, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  });
}

/**
 * One line per request, for every request Fastify answers (API routes, 404s, docs, body-parser errors):
 * request id, method, route template, status and duration. The URL is logged without its query string.
 */
export function registerAccessLog(fastify: FastifyInstance, logger: Logger): void {
  fastify.addHook('onResponse', (request, reply, done) => {
    const status = reply.statusCode;
    const route = request.routeOptions.url;
    const entry = {
      reqId: request.id,
      method: request.method,
      route,
      path: request.url.split('?')[0],
      status,
      durationMs: Math.round(reply.elapsedTime * 10) / 10,
    };
    const message = `${request.method} ${route ?? entry.path} ${status}`;
    if (status >= 500) logger.error(entry, message);
    else logger.info(entry, message);
    done();
  });
}
