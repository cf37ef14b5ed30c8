import type { FastifyInstance, FastifyRequest } from 'fastify';
import { sendProblem } from './problem-details';

/**
 * A known path asked with a method it does not serve is a 405 with `Allow` (RFC 9110 §15.5.6), not a 404;
 * an unknown path stays a 404. Before authentication, like routing. A path is the resource of the most
 * specific route that matches it, whatever the method: `/api/v1/tasks/stats` is the statistics (GET), not
 * a task id, so `DELETE /api/v1/tasks/stats` is a 405 although the text fits `DELETE /api/v1/tasks/:id`.
 */
export function registerMethodNotAllowed(fastify: FastifyInstance): void {
  fastify.addHook('onRequest', (request, reply, done) => {
    const allowed = allowedMethods(fastify, request);
    if (allowed === undefined || allowed.includes(request.method)) return done();
    const allow = allowed.join(', ');
    sendProblem(request, reply, 405, `${request.method} is not allowed here; this path serves ${allow}`, {
      headers: { allow },
    });
  });
}

/** The methods served at the request's path, or undefined when they need no check (or none is). */
function allowedMethods(fastify: FastifyInstance, request: FastifyRequest): string[] | undefined {
  const route = request.routeOptions.url;
  // A route without parameters is exactly its path: nothing more specific can shadow it.
  if (route !== undefined && !/[:*]/.test(route)) return undefined;
  const matches = fastify.supportedMethods.flatMap((method) => {
    const found = fastify.findRoute({ method, url: request.url });
    // Nest answers 404 for an empty path parameter (`/api/v1/tasks/`): no route serves that path.
    const params = Object.entries((found?.params ?? {}) as Record<string, string>);
    if (!found || params.some(([name, value]) => value === '' && name !== '*')) return [];
    return [{ method, parameters: params.length }];
  });
  if (matches.length === 0) return undefined;
  const fewest = Math.min(...matches.map((match) => match.parameters));
  return matches.filter((match) => match.parameters === fewest).map((match) => match.method);
}
