import type { EnvironmentVariables } from './env.validation';

export interface PoolConfig {
  max: number;
  /** Requests allowed to queue for a connection; beyond this the service sheds load with 503. */
  maxWaiting: number;
  idleTimeoutMs: number;
  /** Bounds both opening a connection and waiting for one from the pool. */
  connectTimeoutMs: number;
  maxLifetimeS: number;
  keepAlive: boolean;
  keepAliveDelayMs: number;
}

/** How `sslmode` is read: libpq's meaning outside production; stricter in production. */
export interface TlsPolicy {
  /** Production: no `sslmode` means `verify-full`, and `require`/`prefer` check the certificate too. */
  verify: boolean;
  /** `DATABASE_TLS_INSECURE`: in production, encrypt without checking unless the URL asks for `verify-*`. */
  insecure: boolean;
}

/** How long a migration may wait for locks and run, and how often one that hit the lock timeout is retried. */
export interface MigrationLimits {
  lockTimeoutMs: number;
  statementTimeoutMs: number;
  lockRetries: number;
  retryDelayMs: number;
}

export interface DatabaseConfig {
  /** The app's connection. Unset outside production: an embedded PostgreSQL is started instead. */
  url?: string;
  /** Direct (unpooled) connection for migrations; falls back to `url`. */
  migrationsUrl?: string;
  pooler: 'auto' | 'pgbouncer' | 'none';
  tls: TlsPolicy;
  pool: PoolConfig;
  statementTimeoutMs: number;
  idleInTransactionTimeoutMs: number;
  /** Run the hot queries as named prepared statements (see src/database/sql.ts). */
  preparedStatements: boolean;
  applicationName: string;
  startupRetryMs: number;
  /** The app's role, granted row access by every migration run (DATABASE_APP_ROLE). */
  appRole?: string;
  migrations: MigrationLimits;
  embedded: { port: number; dataDir: string };
}

export function databaseConfig(env: EnvironmentVariables): DatabaseConfig {
  return {
    url: env.DATABASE_URL,
    migrationsUrl: env.DATABASE_URL_UNPOOLED ?? env.DATABASE_URL,
    pooler: env.DATABASE_POOLER,
    tls: { verify: env.NODE_ENV === 'production', insecure: env.DATABASE_TLS_INSECURE },
    pool: {
      max: env.DB_POOL_MAX,
      maxWaiting: env.DB_POOL_MAX_WAITING,
      idleTimeoutMs: env.DB_IDLE_TIMEOUT_MS,
      connectTimeoutMs: env.DB_CONNECT_TIMEOUT_MS,
      maxLifetimeS: env.DB_MAX_LIFETIME_S,
      keepAlive: env.DB_KEEPALIVE,
      keepAliveDelayMs: env.DB_KEEPALIVE_DELAY_MS,
    },
    statementTimeoutMs: env.DB_STATEMENT_TIMEOUT_MS,
    idleInTransactionTimeoutMs: env.DB_IDLE_IN_TRANSACTION_TIMEOUT_MS,
    preparedStatements: env.DB_PREPARED_STATEMENTS,
    applicationName: env.DB_APPLICATION_NAME,
    startupRetryMs: env.DB_STARTUP_RETRY_MS,
    appRole: env.DATABASE_APP_ROLE,
    migrations: {
      lockTimeoutMs: env.MIGRATION_LOCK_TIMEOUT_MS,
      statementTimeoutMs: env.MIGRATION_STATEMENT_TIMEOUT_MS,
      lockRetries: env.MIGRATION_LOCK_RETRIES,
      retryDelayMs: env.MIGRATION_LOCK_RETRY_DELAY_MS,
    },
    embedded: { port: env.EMBEDDED_PG_PORT, dataDir: env.EMBEDDED_PG_DATA_DIR },
  };
}
