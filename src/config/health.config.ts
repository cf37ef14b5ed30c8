import type { EnvironmentVariables } from './env.validation';

export interface HealthConfig {
  /** Readiness gives the database this long to answer. */
  dbTimeoutMs: number;
  /** A successful database check is reused this long, so probes alone let an idle Neon compute suspend. */
  dbCacheTtlMs: number;
}

export function healthConfig(env: EnvironmentVariables): HealthConfig {
  return { dbTimeoutMs: env.HEALTH_DB_TIMEOUT_MS, dbCacheTtlMs: env.HEALTH_DB_CACHE_TTL_MS };
}
