import type { OpenAPIObject } from '@nestjs/swagger';
import type { FastifyInstance, onRequestAsyncHookHandler } from 'fastify';
import { ValidationFailedException } from './validation';

type Operation = { parameters?: { in?: string }[] };

const refuseAnyQuery: onRequestAsyncHookHandler = async (request) => {
  const names = Object.keys(request.query as object);
  if (names.length > 0) {
    throw new ValidationFailedException(
      names.map((name) => ({ field: name, message: `${name} is not a known field` })),
    );
  }
};

/**
 * An operation of the API that declares no query parameter refuses any, as a query DTO refuses the ones
 * it does not declare (the ValidationPipe's whitelist): `GET /tasks/stats?x=1` is a 400 like
 * `GET /tasks?x=1`. Read from the OpenAPI document, the one description of what each operation takes;
 * route-level, so after authentication.
 */
export function refuseUndeclaredQueries(fastify: FastifyInstance, document: OpenAPIObject): void {
  fastify.addHook('onRoute', (route) => {
    if (!route.url.startsWith('/api/')) return;
    const path = document.paths[route.url.replace(/:(\w+)/g, '{$1}')] as Record<string, Operation> | undefined;
    const methods = [route.method].flat().map((method) => (method === 'HEAD' ? 'get' : method.toLowerCase()));
    const operations = methods.map((method) => path?.[method]).filter((operation) => operation !== undefined);
    if (operations.length === 0 || operations.some((op) => op.parameters?.some((p) => p.in === 'query'))) return;
    route.onRequest = [route.onRequest ?? []].flat().concat(refuseAnyQuery);
  });
}
