import { escapeIdentifier } from 'pg';
import type { DataSource } from 'typeorm';
import type { DatabaseConfig } from '../config/database.config';
import { MigrationError } from './migration-locks';
import { parsePostgresUrl } from './postgres-url';

/**
 * What the app's role may do, granted again after every migration run so that tables a migration added
 * are covered: read and write rows, call the schema's functions, read (not write) the migrations table for
 * readiness. Never DDL, TRUNCATE or triggers: the migrations, as the owner, are the only schema changes.
 */
function grants(role: string, schema: string, migrationsTable: string): string[] {
  const [r, s] = [escapeIdentifier(role), escapeIdentifier(schema)];
  return [
    `GRANT USAGE ON SCHEMA ${s} TO ${r}`,
    `REVOKE CREATE ON SCHEMA ${s} FROM ${r}`,
    `GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA ${s} TO ${r}`,
    `REVOKE TRUNCATE, REFERENCES, TRIGGER ON ALL TABLES IN SCHEMA ${s} FROM ${r}`,
    `REVOKE INSERT, UPDATE, DELETE ON ${s}.${escapeIdentifier(migrationsTable)} FROM ${r}`,
    `GRANT USAGE ON ALL SEQUENCES IN SCHEMA ${s} TO ${r}`,
    `GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA ${s} TO ${r}`,
    // Objects the owner creates later come with the same grants, between a migration and the next run.
    `ALTER DEFAULT PRIVILEGES IN SCHEMA ${s} GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO ${r}`,
    `ALTER DEFAULT PRIVILEGES IN SCHEMA ${s} GRANT USAGE ON SEQUENCES TO ${r}`,
    `ALTER DEFAULT PRIVILEGES IN SCHEMA ${s} GRANT EXECUTE ON FUNCTIONS TO ${r}`,
  ];
}

/** After the migrations, as the owner: DATABASE_APP_ROLE's grants (when set), then the app role's timeouts. */
export async function prepareAppRole(dataSource: DataSource, database: DatabaseConfig): Promise<void> {
  if (database.appRole) await grantAppRole(dataSource, database.appRole);
  const appUrl = database.url ?? database.migrationsUrl;
  const role = database.appRole ?? (appUrl && parsePostgresUrl(appUrl).user);
  if (role) await pinRoleTimeouts(dataSource, database, role);
}

async function grantAppRole(dataSource: DataSource, role: string): Promise<void> {
  const [{ owner, schema, exists }] = (await dataSource.query(
    `SELECT current_user AS owner, current_schema() AS schema, EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1) AS exists`,
    [role],
  )) as { owner: string; schema: string; exists: boolean }[];
  if (!exists) {
    throw new MigrationError(`DATABASE_APP_ROLE ${role} does not exist: create it first (docs/migrations.md)`);
  }
  if (role === owner) {
    throw new MigrationError(
      `DATABASE_APP_ROLE ${role} is the role the migrations run as: the app must connect as a role that does not own the schema`,
    );
  }
  const table = dataSource.options.migrationsTableName ?? 'migrations';
  await dataSource.transaction(async (manager) => {
    for (const statement of grants(role, schema, table)) await manager.query(statement);
  });
  const [{ creates }] = (await dataSource.query(
    `SELECT has_schema_privilege($1, current_schema(), 'CREATE') AS creates`,
    [role],
  )) as { creates: boolean }[];
  if (creates) {
    console.warn(
      `Role ${role} can still create objects in schema ${schema}, through PUBLIC: REVOKE CREATE ON SCHEMA ${schema} FROM PUBLIC`,
    );
  }
}

/**
 * Behind PgBouncer in transaction mode (Neon's pooler) timeouts cannot travel as startup parameters, so
 * the app's role gets them as its own defaults in this database, where every pooled session picks them
 * up. Over a direct connection the app's startup parameters override them anyway.
 */
async function pinRoleTimeouts(dataSource: DataSource, database: DatabaseConfig, role: string): Promise<void> {
  const [{ db }] = (await dataSource.query('SELECT current_database() AS db')) as { db: string }[];
  const scope = `ALTER ROLE ${escapeIdentifier(role)} IN DATABASE ${escapeIdentifier(db)} SET`;
  try {
    await dataSource.query(`${scope} statement_timeout = ${Math.trunc(database.statementTimeoutMs)}`);
    await dataSource.query(
      `${scope} idle_in_transaction_session_timeout = ${Math.trunc(database.idleInTransactionTimeoutMs)}`,
    );
  } catch (error) {
    console.warn(
      `Could not set the timeouts of role ${role} (${(error as Error).message}); behind a pooler, run as its owner: ` +
        `${scope} statement_timeout = ${database.statementTimeoutMs}`,
    );
  }
}
