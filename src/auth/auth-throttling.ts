import type { ExecutionContext } from '@nestjs/common';
import type { ThrottlerModuleOptions } from '@nestjs/throttler';
import type { AuthConfig, RateLimit } from '../config/auth.config';

/** Named limits; each auth route opts into the ones that concern it (see AuthController). */
export const THROTTLERS = ['login-ip', 'login-email', 'register-ip', 'refresh-ip'] as const;
export type ThrottlerName = (typeof THROTTLERS)[number];

/**
 * Counters live in this process' memory, so with N replicas the effective limit is up to N times the
 * configured one; the load balancer's session affinity or a shared store tightens that if needed.
 */
export function throttlerOptions(auth: AuthConfig): ThrottlerModuleOptions {
  const { loginPerIp, loginPerEmail, registerPerIp, refreshPerIp } = auth.throttle;
  return {
    errorMessage: 'Too many attempts; retry after the time in Retry-After',
    throttlers: [
      limit('login-ip', loginPerIp),
      // Guessing one account's password from many addresses is limited per email.
      { ...limit('login-email', loginPerEmail), getTracker: (request) => emailOf(request) },
      limit('register-ip', registerPerIp),
      limit('refresh-ip', refreshPerIp),
    ],
  };
}

function limit(name: ThrottlerName, { limit, ttlMs }: RateLimit) {
  return { name, limit, ttl: ttlMs, blockDuration: ttlMs, skipIf: (_context: ExecutionContext) => limit === 0 };
}

function emailOf(request: Record<string, unknown>): string {
  const email = (request.body as { email?: unknown } | undefined)?.email;
  return typeof email === 'string' ? email.trim().toLowerCase() : '';
}

/** `@SkipThrottle()` argument that keeps only the named limits. */
export function onlyThrottlers(...keep: ThrottlerName[]): Record<string, boolean> {
  return Object.fromEntries(THROTTLERS.map((name) => [name, !keep.includes(name)]));
}
