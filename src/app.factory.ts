import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Logger } from 'nestjs-pino';
import { AppModule } from './app.module';
import type { AppConfig } from './config/configuration';
import { BODY_LIMIT_BYTES, registerJsonBodyParser } from './http/json-body-parser';
import { createRootLogger, registerAccessLog } from './http/logger';
import { requestId } from './http/request-id';
import { setupSwagger } from './http/swagger';

export const API_PREFIX = 'api/v1';

/** Builds the application exactly as it serves, for main.ts and for the e2e tests. */
export async function createApp(config: AppConfig): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({
    bodyLimit: BODY_LIMIT_BYTES,
    genReqId: requestId,
    requestIdHeader: false,
    // A hop count is valid at run time although Fastify's type omits it.
    trustProxy: config.http.trustProxy as boolean | string,
    logger: false,
    return503OnClosing: true,
  });
  const logger = createRootLogger(config.http);
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config, logger), adapter, {
    bufferLogs: true,
    bodyParser: false,
  });
  app.useLogger(app.get(Logger));
  app.flushLogs();

  const fastify = app.getHttpAdapter().getInstance();
  registerJsonBodyParser(fastify);
  registerAccessLog(fastify, logger);
  fastify.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id);
    done();
  });

  app.setGlobalPrefix(API_PREFIX, { exclude: ['health/live', 'health/ready', 'metrics'] });
  setupSwagger(app);
  await app.init();
  await fastify.ready();
  return app;
}
