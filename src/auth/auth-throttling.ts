import type { ExecutionContext } from '@nestjs/common';
import type { ThrottlerModuleOptions, ThrottlerStorage } from '@nestjs/throttler';
import type { AuthConfig, RateLimit } from '../config/auth.config';

/**
 * Named per-address limits; each auth route opts into the ones that concern it (see AuthController).
 * Failed password checks per account are counted by PasswordAttempts.
 */
export const THROTTLERS = ['login-ip', 'register-ip', 'refresh-ip'] as const;
export type ThrottlerName = (typeof THROTTLERS)[number];

/** Counters live in PostgreSQL (RateLimitStore), so each limit holds in total across the replicas. */
export function throttlerOptions(auth: AuthConfig, storage: ThrottlerStorage): ThrottlerModuleOptions {
  const { loginPerIp, registerPerIp, refreshPerIp } = auth.throttle;
  return {
    // Retry-After is set by AuthThrottlerGuard; the per-limit X-RateLimit-* headers would only add noise.
    setHeaders: false,
    storage,
    throttlers: [limit('login-ip', loginPerIp), limit('register-ip', registerPerIp), limit('refresh-ip', refreshPerIp)],
  };
}

function limit(name: ThrottlerName, { limit, ttlMs }: RateLimit) {
  return { name, limit, ttl: ttlMs, blockDuration: ttlMs, skipIf: (_context: ExecutionContext) => limit === 0 };
}

/** `@SkipThrottle()` argument that keeps only the named limits. */
export function onlyThrottlers(...keep: ThrottlerName[]): Record<string, boolean> {
  return Object.fromEntries(THROTTLERS.map((name) => [name, !keep.includes(name)]));
}
