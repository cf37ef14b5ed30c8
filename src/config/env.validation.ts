import { plainToInstance } from 'class-transformer';
import { IsIn, IsOptional, IsString, MinLength, validateSync } from 'class-validator';
import { Bool, Int, PostgresUrl, Rate, Text, TrustProxy } from './env-decorators';

/** Thrown for an invalid environment; its message is one line that names the variable. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/**
 * Every environment variable the service reads, with its default. `.env.example` documents the same
 * list; `config/*.config.ts` turn it into typed namespaces. Nothing else reads `process.env`.
 */
export class EnvironmentVariables {
  @IsIn(['development', 'production', 'test'])
  NODE_ENV: 'development' | 'production' | 'test' = 'development';

  @Int(0, 65535)
  PORT = 3000;

  @IsString()
  HOST = '0.0.0.0';

  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  LOG_LEVEL = 'info';

  /** Whom to believe in X-Forwarded-For: `false`, a hop count or addresses/CIDRs; `true` not in production. */
  @TrustProxy()
  TRUST_PROXY = 'false';

  /** After SIGTERM: keep serving this long while readiness says 503, so load balancers stop routing here. */
  @Int(0, 120_000)
  SHUTDOWN_DRAIN_MS = 0;

  /** After the drain: in-flight requests get this long to finish before the process gives up (exit 1). */
  @Int(1_000, 300_000)
  SHUTDOWN_TIMEOUT_MS = 25_000;

  /** Longest a client may take to send a whole request, headers and body; then 408 and the connection closes. */
  @Int(1_000, 600_000)
  HTTP_REQUEST_TIMEOUT_MS = 30_000;

  /** Longest a client may take to send the request line and headers; the request timeout caps it. */
  @Int(1_000, 600_000)
  HTTP_HEADERS_TIMEOUT_MS = 10_000;

  /** An idle keep-alive connection closes after this long: above the proxy's upstream keep-alive (nginx 60 s). */
  @Int(1_000, 600_000)
  HTTP_KEEP_ALIVE_TIMEOUT_MS = 72_000;

  /** A connection on which nothing moves either way for this long closes (a client that stops reading). */
  @Int(1_000, 600_000)
  HTTP_CONNECTION_TIMEOUT_MS = 60_000;

  /** Strict-Transport-Security max-age (with includeSubDomains); 0 sends none. The app itself speaks HTTP. */
  @Int(0, 63_072_000)
  HSTS_MAX_AGE_S = 0;

  /** Swagger UI at /docs and the OpenAPI document at /docs-json; off, both answer 404. */
  @Bool()
  DOCS_ENABLED = true;

  /** A listener of its own for /metrics (and nothing else), which PORT then stops serving. Unset: on PORT. */
  @IsOptional()
  @Int(0, 65535)
  METRICS_PORT?: number;

  @PostgresUrl()
  DATABASE_URL?: string;

  @PostgresUrl()
  DATABASE_URL_UNPOOLED?: string;

  /** Production only: TLS without a certificate check unless the URL asks for `verify-ca`/`verify-full`. */
  @Bool()
  DATABASE_TLS_INSECURE = false;

  /** `auto` treats Neon `-pooler` hosts as PgBouncer in transaction mode. */
  @IsIn(['auto', 'pgbouncer', 'none'])
  DATABASE_POOLER: 'auto' | 'pgbouncer' | 'none' = 'auto';

  @Int(1, 1000)
  DB_POOL_MAX = 10;

  @Int(0, 100_000)
  DB_POOL_MAX_WAITING = 50;

  @Int(0, 86_400_000)
  DB_IDLE_TIMEOUT_MS = 10_000;

  @Int(100, 120_000)
  DB_CONNECT_TIMEOUT_MS = 5_000;

  @Int(0, 86_400)
  DB_MAX_LIFETIME_S = 1_800;

  @Int(0, 86_400_000)
  DB_STATEMENT_TIMEOUT_MS = 10_000;

  @Int(0, 86_400_000)
  DB_IDLE_IN_TRANSACTION_TIMEOUT_MS = 10_000;

  @Bool()
  DB_KEEPALIVE = true;

  @Int(0, 3_600_000)
  DB_KEEPALIVE_DELAY_MS = 10_000;

  /** Named (prepared) statements for the hot queries; switched off by itself behind a pooler that drops them. */
  @Bool()
  DB_PREPARED_STATEMENTS = true;

  @Text(1, 63)
  DB_APPLICATION_NAME = 'tasks-api';

  /** How long boot keeps retrying an unreachable database before giving up. */
  @Int(0, 3_600_000)
  DB_STARTUP_RETRY_MS = 60_000;

  /**
   * The role the app connects as (the user in the app's DATABASE_URL). Set, every migration run grants it
   * row access (no DDL, no TRUNCATE) and pins its timeouts; the migrations themselves run as the owner.
   */
  @IsOptional()
  @Text(1, 63)
  DATABASE_APP_ROLE?: string;

  /** Each migration statement waits this long for a lock, then gives up (and the migration is retried). */
  @Int(100, 600_000)
  MIGRATION_LOCK_TIMEOUT_MS = 5_000;

  /** A migration that hit the lock timeout is retried this many times before the run fails. */
  @Int(0, 100)
  MIGRATION_LOCK_RETRIES = 5;

  /** The first pause before such a retry; each following one doubles, up to 60 s. */
  @Int(0, 60_000)
  MIGRATION_LOCK_RETRY_DELAY_MS = 2_000;

  /** statement_timeout for migration statements (0 = none); CREATE INDEX CONCURRENTLY is exempt. */
  @Int(0, 86_400_000)
  MIGRATION_STATEMENT_TIMEOUT_MS = 600_000;

  @Int(0, 65535)
  EMBEDDED_PG_PORT = 0;

  @IsString()
  EMBEDDED_PG_DATA_DIR = '.data/postgres';

  @Int(100, 30_000)
  HEALTH_DB_TIMEOUT_MS = 1_000;

  @Int(0, 3_600_000)
  HEALTH_DB_CACHE_TTL_MS = 0;

  @IsOptional()
  @IsString()
  @MinLength(32, { message: 'JWT_SECRET must be at least 32 characters' })
  JWT_SECRET?: string;

  @Int(30, 86_400)
  JWT_ACCESS_TTL_S = 900;

  @Text(1)
  JWT_ISSUER = 'tasks-api';

  @Text(1)
  JWT_AUDIENCE = 'tasks-api';

  /** Idle lifetime of a session: a refresh moves its end this far ahead. */
  @Int(60, 31_536_000)
  REFRESH_TOKEN_TTL_S = 2_592_000;

  /** Absolute lifetime of a session from login; refreshing never extends it. */
  @Int(1, 31_536_000)
  SESSION_MAX_LIFETIME_S = 2_592_000;

  /** Changing the email or deleting the account needs a password proof (login) at most this old. */
  @Int(1, 86_400)
  REAUTH_WINDOW_S = 600;

  /** argon2id cost; the defaults are OWASP's recommendation (19 MiB, 2 passes, 1 lane). */
  @Int(1024, 1_048_576)
  ARGON2_MEMORY_KIB = 19_456;

  @Int(1, 20)
  ARGON2_ITERATIONS = 2;

  @Int(1, 16)
  ARGON2_PARALLELISM = 1;

  /** Hashes computed at once; 0 means one fewer than the available cores (at least one). */
  @Int(0, 64)
  ARGON2_CONCURRENCY = 0;

  /** Hashes that may wait for one of those; past it a password check answers 503 + Retry-After at once. */
  @Int(0, 10_000)
  ARGON2_MAX_WAITING = 64;

  /** Rate limits as `<requests>/<seconds>`, counted in PostgreSQL across replicas; `0/…` turns one off. */
  @Rate() THROTTLE_LOGIN_PER_IP = '20/60';
  @Rate() THROTTLE_LOGIN_PER_EMAIL = '10/900';
  @Rate() THROTTLE_REGISTER_PER_IP = '10/3600';
  @Rate() THROTTLE_REFRESH_PER_IP = '60/60';
  @Rate() THROTTLE_PASSWORD_CHANGE_PER_USER = '5/900';
}

/** `migrations`: the migration runner (a Kubernetes Job) needs a database URL, not the app's secrets. */
export type ConfigPurpose = 'app' | 'migrations';

/**
 * Validates the raw environment once, at start-up. Empty strings count as unset, the way
 * container platforms pass optional variables.
 */
export function validateEnv(
  raw: Record<string, string | undefined>,
  purpose: ConfigPurpose = 'app',
): EnvironmentVariables {
  const present = Object.fromEntries(Object.entries(raw).filter(([, value]) => value !== undefined && value !== ''));
  const env = plainToInstance(EnvironmentVariables, present, { exposeDefaultValues: true });
  const [error] = validateSync(env, { skipMissingProperties: false, whitelist: false });
  if (error) {
    const message = Object.values(error.constraints ?? {})[0] ?? 'is invalid';
    throw new ConfigError(message.startsWith(error.property) ? message : `${error.property} ${message}`);
  }
  if (env.METRICS_PORT !== undefined && env.METRICS_PORT !== 0 && env.METRICS_PORT === env.PORT) {
    throw new ConfigError('METRICS_PORT must differ from PORT (leave it unset to serve /metrics on PORT)');
  }
  const production = env.NODE_ENV === 'production';
  if (production && purpose === 'migrations' && !env.DATABASE_URL_UNPOOLED && !env.DATABASE_URL) {
    throw new ConfigError('DATABASE_URL_UNPOOLED (or DATABASE_URL) is required to run migrations in production');
  }
  if (production && purpose === 'app' && !env.DATABASE_URL) {
    throw new ConfigError(
      'DATABASE_URL is required when NODE_ENV=production (a postgres:// URL; Neon: the pooled one)',
    );
  }
  if (production && purpose === 'app' && !env.JWT_SECRET) {
    throw new ConfigError('JWT_SECRET is required when NODE_ENV=production (at least 32 random characters)');
  }
  return env;
}
