import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { OpenAPIObject } from '@nestjs/swagger';
import { Logger, PinoLogger } from 'nestjs-pino';
import { AppModule } from './app.module';
import { JwtAuthGuard } from './auth/jwt-auth.guard';
import type { AppConfig } from './config/configuration';
import { BODY_LIMIT_BYTES, registerJsonBodyParser } from './http/json-body-parser';
import { frameworkErrorHandlers } from './http/framework-errors';
import { registerMethodNotAllowed } from './http/method-not-allowed';
import { createRootLogger, registerAccessLog } from './http/logger';
import { sendProblem } from './http/problem-details';
import { requestId } from './http/request-id';
import { trustProxyOption } from './http/trust-proxy';
import { ShutdownState } from './http/shutdown-state';
import { registerResponseSchemas } from './http/response-schemas';
import { refuseUndeclaredQueries } from './http/undeclared-query';
import { registerSecurityHeaders, securityHeaderOptions, staticSecurityHeaders } from './http/security-headers';
import { buildOpenApiDocument, serveDocs, SWAGGER_UI_PAGES } from './http/swagger';
import { keepMetricsOnItsOwnListener } from './metrics/metrics-listener';
import { MetricsService } from './metrics/metrics.service';

export const API_PREFIX = 'api/v1';

/** The /api/v1 prefix, which the probes and /metrics stay outside of; also for scripts/openapi-snapshot.js. */
export function setApiPrefix(app: INestApplication): void {
  app.setGlobalPrefix(API_PREFIX, { exclude: ['health/live', 'health/ready', 'metrics'] });
}

/** Builds the application exactly as it serves, for main.ts and for the e2e tests. */
export async function createApp(config: AppConfig): Promise<NestFastifyApplication> {
  const { timeouts } = config.http;
  const securityHeaders = securityHeaderOptions(config.http);
  const adapter = new FastifyAdapter({
    // Slow or silent clients (a body trickled a byte at a time) cannot hold a connection: a request not
    // received in time gets 408 through clientErrorHandler, an idle or stalled connection is closed.
    requestTimeout: timeouts.requestMs,
    keepAliveTimeout: timeouts.keepAliveMs,
    connectionTimeout: timeouts.connectionMs,
    http: {
      headersTimeout: timeouts.headersMs,
      requestTimeout: timeouts.requestMs,
      // Node enforces the two deadlines above only on this tick (30 s by default), so it sets their precision.
      connectionsCheckingInterval: Math.min(1_000, Math.ceil(timeouts.headersMs / 4)),
    },
    bodyLimit: BODY_LIMIT_BYTES,
    genReqId: requestId,
    requestIdHeader: false,
    trustProxy: trustProxyOption(config.http.trustProxy),
    logger: false,
    // During shutdown late requests get our problem+json 503 (below), not Fastify's own body.
    return503OnClosing: false,
    ...frameworkErrorHandlers(staticSecurityHeaders(securityHeaders)),
  });
  const logger = createRootLogger(config.http);
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config, logger), adapter, {
    // JSON logs from the first line, so boot-time retries (a database waking up) show as they happen.
    logger: new Logger(new PinoLogger({ pinoHttp: { logger } }), {}),
    bodyParser: false,
    // A failed boot (a database that never answers) reaches main.ts, which reports it in one line.
    abortOnError: false,
  });

  const fastify = app.getHttpAdapter().getInstance();
  // First of all hooks: whatever answers later (a route, a 404, a filter, Fastify's 413) has the headers.
  await registerSecurityHeaders(fastify, securityHeaders, SWAGGER_UI_PAGES);
  registerJsonBodyParser(fastify);
  registerAccessLog(fastify, logger);
  const shutdown = app.get(ShutdownState);
  fastify.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id);
    // Per-user data and tokens: no shared cache may keep a copy (RFC 9111; RFC 6749 §5.1 for tokens).
    if (request.url.startsWith('/api/')) reply.header('cache-control', 'no-store');
    if (!shutdown.closing) return done();
    sendProblem(request, reply, 503, 'The server is shutting down; retry', {
      headers: { connection: 'close', 'retry-after': '1' },
    });
  });
  if (config.http.metricsPort !== undefined) keepMetricsOnItsOwnListener(fastify);
  // Routing's answers (405) before authentication, and authentication before the body is read.
  registerMethodNotAllowed(fastify);
  const auth = app.get(JwtAuthGuard);
  fastify.addHook('onRequest', (request) => auth.authenticate(request));
  const metrics = app.get(MetricsService);
  fastify.addHook('onResponse', (request, reply, done) => {
    metrics.observe(request.method, request.routeOptions.url, reply.statusCode, reply.elapsedTime / 1000);
    done();
  });

  setApiPrefix(app);
  const document = buildOpenApiDocument(app);
  registerResponseSchemas(fastify, document);
  refuseUndeclaredQueries(fastify, document);
  if (config.http.docsEnabled) {
    // With a listener of its own, /metrics is a 404 on this one: the document served here leaves it out.
    const served = config.http.metricsPort === undefined ? document : withoutPath(document, '/metrics');
    serveDocs(app, served);
  }
  await app.init();
  await fastify.ready();
  return app;
}

function withoutPath(document: OpenAPIObject, path: string): OpenAPIObject {
  const { [path]: _left, ...paths } = document.paths;
  return { ...document, paths };
}
