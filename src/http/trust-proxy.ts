import type { FastifyServerOptions } from 'fastify';
import { isIP } from 'node:net';
import { addressRanges, type TrustProxy } from '../config/trust-proxy';

/**
 * TRUST_PROXY as Fastify's `trustProxy`. Fastify reads a bare number as "trust nobody" (it cannot tell a
 * proxy from a client that sends the header itself), so a hop count becomes the function that trusts that
 * many hops; address ranges become a check of the sender against them (@fastify/proxy-addr asks it for the
 * socket's peer first, then for each X-Forwarded-For entry from the right, and stops at the first it refuses).
 */
export function trustProxyOption(trust: TrustProxy): FastifyServerOptions['trustProxy'] {
  if (typeof trust === 'boolean') return trust;
  if (typeof trust === 'number') return (_address: string, hop: number) => hop < trust;
  const ranges = addressRanges(trust);
  return (address: string) => {
    const family = isIP(address);
    return family !== 0 && ranges.check(address, family === 4 ? 'ipv4' : 'ipv6');
  };
}
