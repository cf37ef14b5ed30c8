import { BadRequestException } from '@nestjs/common';
import type { FastifyInstance } from 'fastify';

export const BODY_LIMIT_BYTES = 64 * 1024;
const MAX_DEPTH = 32;

/**
 * The only body parser: JSON (`application/json`, `application/*+json`). Any other content type is
 * answered 415 by Fastify. Prototype-poisoning keys are refused (Fastify's secure parser), and so is
 * nesting deeper than any request of this API needs, before it reaches the recursive transformers.
 */
export function registerJsonBodyParser(fastify: FastifyInstance): void {
  const parseJson = fastify.getDefaultJsonParser('error', 'error');
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser(
    /^application\/([\w.-]+\+)?json$/i,
    { parseAs: 'string', bodyLimit: BODY_LIMIT_BYTES },
    (request, body, done) => {
      void parseJson(request, body as string, (error, value) => {
        if (error) return done(error, undefined);
        if (exceedsDepth(value, MAX_DEPTH)) {
          return done(new BadRequestException(`JSON body is nested deeper than ${MAX_DEPTH} levels`), undefined);
        }
        done(null, value);
      });
    },
  );
}

function exceedsDepth(root: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[root, 0]];
  while (stack.length > 0) {
    const [value, depth] = stack.pop()!;
    if (value === null || typeof value !== 'object') continue;
    if (depth >= max) return true;
    for (const child of Object.values(value)) stack.push([child, depth + 1]);
  }
  return false;
}
