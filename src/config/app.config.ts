import type { EnvironmentVariables } from './env.validation';
import { parseTrustProxy, type TrustProxy } from './trust-proxy';

export interface HttpConfig {
  env: 'development' | 'production' | 'test';
  port: number;
  host: string;
  logLevel: string;
  /** Whom to believe about the client address in `X-Forwarded-For` (src/http/trust-proxy.ts applies it). */
  trustProxy: TrustProxy;
  shutdownDrainMs: number;
  shutdownTimeoutMs: number;
  timeouts: HttpTimeouts;
  /** Strict-Transport-Security max-age; 0 sends no header. */
  hstsMaxAgeS: number;
  docsEnabled: boolean;
  /** Where /metrics is served alone; undefined serves it on `port` with the API. */
  metricsPort: number | undefined;
}

/** Bounds on slow or silent clients, in milliseconds (Node's HTTP server options). */
export interface HttpTimeouts {
  requestMs: number;
  headersMs: number;
  keepAliveMs: number;
  connectionMs: number;
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
    timeouts: {
      requestMs: env.HTTP_REQUEST_TIMEOUT_MS,
      // The whole request's deadline covers its headers (and Node refuses a longer headers timeout).
      headersMs: Math.min(env.HTTP_HEADERS_TIMEOUT_MS, env.HTTP_REQUEST_TIMEOUT_MS),
      keepAliveMs: env.HTTP_KEEP_ALIVE_TIMEOUT_MS,
      connectionMs: env.HTTP_CONNECTION_TIMEOUT_MS,
    },
    hstsMaxAgeS: env.HSTS_MAX_AGE_S,
    docsEnabled: env.DOCS_ENABLED,
    metricsPort: env.METRICS_PORT,
  };
}
