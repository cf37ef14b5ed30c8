import type { EnvironmentVariables } from './env.validation';

export interface HttpConfig {
  env: 'development' | 'production' | 'test';
  port: number;
  host: string;
  logLevel: string;
  /** Fastify's `trustProxy`: whom to believe about the client address in `X-Forwarded-For`. */
  trustProxy: boolean | number | string;
  shutdownDrainMs: number;
  shutdownTimeoutMs: number;
  /** Strict-Transport-Security max-age; 0 sends no header. */
  hstsMaxAgeS: number;
  docsEnabled: boolean;
  /** Where /metrics is served alone; undefined serves it on `port` with the API. */
  metricsPort: number | undefined;
}

export function httpConfig(env: EnvironmentVariables): HttpConfig {
  return {
    env: env.NODE_ENV,
    port: env.PORT,
    host: env.HOST,
    logLevel: env.LOG_LEVEL,
    trustProxy: parseTrustProxy(env.TRUST_PROXY),
    shutdownDrainMs: env.SHUTDOWN_DRAIN_MS,
    shutdownTimeoutMs: env.SHUTDOWN_TIMEOUT_MS,
    hstsMaxAgeS: env.HSTS_MAX_AGE_S,
    docsEnabled: env.DOCS_ENABLED,
    metricsPort: env.METRICS_PORT,
  };
}

function parseTrustProxy(value: string): boolean | number | string {
  if (value === 'true' || value === 'false') return value === 'true';
  if (/^\d+$/.test(value)) return Number(value);
  return value;
}
