import { randomBytes } from 'node:crypto';
import type { EnvironmentVariables } from './env.validation';

export interface RateLimit {
  limit: number;
  ttlMs: number;
}

export interface AuthConfig {
  jwtSecret: string;
  /** No JWT_SECRET outside production: a random one for this process (tokens die with it). */
  jwtSecretGenerated: boolean;
  accessTokenTtlS: number;
  issuer: string;
  audience: string;
  /** Idle lifetime of a session: each refresh moves its end this far ahead, never past the absolute end. */
  refreshTokenTtlS: number;
  /** Absolute lifetime of a session, from login. */
  sessionMaxLifetimeS: number;
  /** How recent the session's password proof must be for an email change or account deletion. */
  reauthWindowS: number;
  /** `concurrency` 0: one fewer than the available cores, at least 1; `maxWaiting`: hashes queued beyond. */
  argon2: { memoryCost: number; timeCost: number; parallelism: number; concurrency: number; maxWaiting: number };
  throttle: {
    loginPerIp: RateLimit;
    loginPerEmail: RateLimit;
    registerPerIp: RateLimit;
    refreshPerIp: RateLimit;
    passwordChangePerUser: RateLimit;
  };
}

export function authConfig(env: EnvironmentVariables): AuthConfig {
  return {
    jwtSecret: env.JWT_SECRET ?? randomBytes(32).toString('base64url'),
    jwtSecretGenerated: !env.JWT_SECRET,
    accessTokenTtlS: env.JWT_ACCESS_TTL_S,
    issuer: env.JWT_ISSUER,
    audience: env.JWT_AUDIENCE,
    refreshTokenTtlS: env.REFRESH_TOKEN_TTL_S,
    sessionMaxLifetimeS: env.SESSION_MAX_LIFETIME_S,
    reauthWindowS: env.REAUTH_WINDOW_S,
    argon2: {
      memoryCost: env.ARGON2_MEMORY_KIB,
      timeCost: env.ARGON2_ITERATIONS,
      parallelism: env.ARGON2_PARALLELISM,
      concurrency: env.ARGON2_CONCURRENCY,
      maxWaiting: env.ARGON2_MAX_WAITING,
    },
    throttle: {
      loginPerIp: rate(env.THROTTLE_LOGIN_PER_IP),
      loginPerEmail: rate(env.THROTTLE_LOGIN_PER_EMAIL),
      registerPerIp: rate(env.THROTTLE_REGISTER_PER_IP),
      refreshPerIp: rate(env.THROTTLE_REFRESH_PER_IP),
      passwordChangePerUser: rate(env.THROTTLE_PASSWORD_CHANGE_PER_USER),
    },
  };
}

function rate(value: string): RateLimit {
  const [limit, seconds] = value.split('/').map(Number);
  return { limit, ttlMs: seconds * 1000 };
}
