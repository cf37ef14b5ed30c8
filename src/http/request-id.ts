import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

const ACCEPTED = /^[\w.:-]{1,128}$/;

/** Fastify's `genReqId`: the caller's `X-Request-Id` when it is a sane token, a UUID otherwise. */
export function requestId(raw: IncomingMessage): string {
  const header = raw.headers['x-request-id'];
  return typeof header === 'string' && ACCEPTED.test(header) ? header : randomUUID();
}
