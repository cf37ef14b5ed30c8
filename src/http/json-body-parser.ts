import { BadRequestException } from '@nestjs/common';
import type { FastifyInstance } from 'fastify';

export const BODY_LIMIT_BYTES = 64 * 1024;
const MAX_DEPTH = 32;
// How much of a refused body is still read (and discarded) after the 413, and for how long.
const LINGER_BYTES = 4 * 1024 * 1024;
const LINGER_MS = 5_000;

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
        const problem = inspect(value);
        if (problem) return done(new BadRequestException(problem), undefined);
        done(null, value);
      });
    },
  );
  registerLingeringClose(fastify);
}

/**
 * A body over the limit is answered 413 before it is read, and Fastify then closes the connection. A
 * socket closed with the client's bytes still unread is reset by the kernel, and a client that is still
 * uploading can lose the 413 to that reset (it sees ECONNRESET or EPIPE instead). As nginx's lingering
 * close does: answer, keep the connection, read and discard the rest of the body, and drop the
 * connection only if the rest runs past LINGER_BYTES or LINGER_MS.
 */
function registerLingeringClose(fastify: FastifyInstance): void {
  fastify.addHook('onSend', (request, reply, payload, done) => {
    const raw = request.raw;
    if (reply.statusCode !== 413 || raw.complete) return done(null, payload);
    reply.removeHeader('connection');
    let received = 0;
    const drop = () => raw.socket?.destroy();
    const timer = setTimeout(drop, LINGER_MS).unref();
    raw.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received > LINGER_BYTES) drop();
    });
    raw.once('close', () => clearTimeout(timer));
    done(null, payload);
  });
}

/** What is wrong with a parsed body that JSON itself allows, or undefined. Iterative: no deep recursion. */
function inspect(root: unknown): string | undefined {
  const stack: [unknown, number][] = [[root, 0]];
  while (stack.length > 0) {
    const [value, depth] = stack.pop()!;
    // PostgreSQL text cannot hold U+0000; refuse it here rather than fail at the database.
    if (typeof value === 'string' && value.includes('\u0000')) return 'Strings must not contain U+0000 (NUL)';
    if (value === null || typeof value !== 'object') continue;
    if (depth >= MAX_DEPTH) return `JSON body is nested deeper than ${MAX_DEPTH} levels`;
    for (const [key, child] of Object.entries(value)) {
      if (key.includes('\u0000')) return 'Strings must not contain U+0000 (NUL)';
      stack.push([child, depth + 1]);
    }
  }
  return undefined;
}
