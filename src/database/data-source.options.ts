import { join } from 'node:path';
import type { TlsOptions } from 'node:tls';
import * as pg from 'pg';
import type { DataSourceOptions } from 'typeorm';
import type { DatabaseConfig } from '../config/database.config';
import { ConfigError } from '../config/env.validation';
import { ChannelBindingClient } from './channel-binding';
import { guardedPg } from './guarded-pool';
import {
  assertNoStartupParameters,
  describeTarget,
  describeTls,
  isPoolerHost,
  parsePostgresUrl,
  type PostgresTarget,
} from './postgres-url';

// The app registers each entity in its feature module (TypeOrmModule.forFeature, autoLoadEntities); the
// migration tooling (the CLI, migration:generate, the schema drift test) finds them by name.
const ENTITIES = join(__dirname, '..', '**', '*.entity.{ts,js}');

// From TypeScript sources (tests, the TypeORM CLI in development) the migrations are the .ts files at the
// top level; from the build they are dist/migrations/*.js, compiled separately (see tsconfig.migrations.json).
const MIGRATIONS = __filename.endsWith('.ts')
  ? join(__dirname, '..', '..', 'migrations', '*.ts')
  : join(__dirname, '..', 'migrations', '*.js');

// `date` columns stay "YYYY-MM-DD" strings: turning them into JS Dates would shift them by the process
// time zone.
const types = new pg.TypeOverrides();
types.setTypeParser(pg.types.builtins.DATE, (value) => value);

export type ConnectionPurpose = 'app' | 'migrations';

export interface ResolvedConnection {
  target: PostgresTarget;
  pooled: boolean;
  variable: string;
}

/** Picks and checks the URL for a purpose: migrations need a direct connection (session advisory locks, DDL). */
export function resolveConnection(db: DatabaseConfig, purpose: ConnectionPurpose): ResolvedConnection {
  const variable = purpose === 'migrations' && db.migrationsUrl !== db.url ? 'DATABASE_URL_UNPOOLED' : 'DATABASE_URL';
  const url = purpose === 'migrations' ? db.migrationsUrl : db.url;
  if (!url) throw new ConfigError(`${variable} is not set`);
  const target = parsePostgresUrl(url, variable, db.tls);
  const pooled = db.pooler === 'pgbouncer' || (db.pooler === 'auto' && isPoolerHost(target.host));
  if (pooled && purpose === 'migrations') {
    throw new ConfigError(
      `${variable} points at a pooler (${target.host}); migrations need the direct host: set DATABASE_URL_UNPOOLED`,
    );
  }
  if (pooled) assertNoStartupParameters(target, variable);
  return { target, pooled, variable };
}

export function buildDataSourceOptions(db: DatabaseConfig, purpose: ConnectionPurpose = 'app'): DataSourceOptions {
  const { target, pooled } = resolveConnection(db, purpose);
  // Behind PgBouncer in transaction mode nothing session-scoped survives, and timeouts sent as startup
  // parameters are refused: there they come from the role (see app-role.ts). Migrations always connect
  // directly, with their own bounds (see MigrationDataSource); as strings, so that node-postgres sends a 0
  // too (it skips a numeric 0, and a role default would apply instead).
  const timeouts = pooled
    ? {}
    : purpose === 'migrations'
      ? {
          statement_timeout: String(db.migrations.statementTimeoutMs),
          lock_timeout: String(db.migrations.lockTimeoutMs),
          idle_in_transaction_session_timeout: db.idleInTransactionTimeoutMs,
        }
      : {
          statement_timeout: db.statementTimeoutMs,
          idle_in_transaction_session_timeout: db.idleInTransactionTimeoutMs,
        };
  return {
    type: 'postgres',
    host: target.host,
    port: target.port,
    username: target.user,
    password: target.password,
    database: target.database,
    ssl: target.ssl as TlsOptions | false,
    entities: purpose === 'migrations' ? [ENTITIES] : [],
    migrations: [MIGRATIONS],
    migrationsTableName: 'migrations',
    migrationsTransactionMode: 'each',
    synchronize: false,
    migrationsRun: false,
    installExtensions: false,
    logging: false,
    driver: guardedPg,
    extra: {
      ...target.startupParameters,
      ...timeouts,
      application_name: purpose === 'migrations' ? `${db.applicationName}-migrations` : db.applicationName,
      enableChannelBinding: target.enableChannelBinding,
      // node-postgres alone would fall back to SCRAM without channel binding; libpq's `require` refuses.
      ...(target.requireChannelBinding ? { Client: ChannelBindingClient } : {}),
      // Migrations: the advisory lock's session, the migrations' own, and one to see who blocks them.
      max: purpose === 'migrations' ? 3 : db.pool.max,
      maxWaiting: db.pool.maxWaiting,
      idleTimeoutMillis: db.pool.idleTimeoutMs,
      connectionTimeoutMillis: db.pool.connectTimeoutMs,
      maxLifetimeSeconds: db.pool.maxLifetimeS,
      keepAlive: db.pool.keepAlive,
      keepAliveInitialDelayMillis: db.pool.keepAliveDelayMs,
      // A client-side bound for when the server cannot enforce statement_timeout itself (frozen, partitioned).
      query_timeout:
        purpose === 'migrations' || db.statementTimeoutMs === 0 ? undefined : db.statementTimeoutMs + 2_000,
      types,
    },
  };
}

/** For the start-up log: where the connection goes and how it is protected, plus a warning when it is weak. */
export function describeConnection(
  db: DatabaseConfig,
  purpose: ConnectionPurpose = 'app',
): { text: string; warning?: string } {
  const { target, pooled } = resolveConnection(db, purpose);
  return {
    text: `${describeTarget(target)} (${describeTls(target.tlsMode)})${pooled ? ' via pooler' : ''}`,
    warning: target.tlsWarning,
  };
}
