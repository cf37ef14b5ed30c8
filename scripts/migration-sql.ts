// The SQL each migration runs, captured from a real run: the migrations are applied, through the same
// MigrationDataSource as `migration:run`, to a throw-away embedded PostgreSQL, and every statement a
// migration sends is written to <out>/<timestamp>-<Name>.sql, in a transaction when it runs in one and
// after the lock_timeout and statement_timeout its connection has. `npm run lint:migrations` runs squawk
// over them.
//   node -r ts-node/register/transpile-only scripts/migration-sql.ts <out> [more migration files...]
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Logger, QueryRunner } from 'typeorm';
import { loadConfig } from '../src/config/configuration';
import { startEmbeddedPostgres } from '../src/database/embedded-postgres';
import { MigrationDataSource } from '../src/database/migration.data-source';

/** TypeORM's query log, sorted by the migration that sent each query (BoundedMigration labels its runner). */
class MigrationSqlLog implements Logger {
  readonly statements = new Map<string, string[]>();

  logQuery(query: string, _parameters?: unknown[], runner?: QueryRunner): void {
    const migration = (runner?.data as { migration?: string } | undefined)?.migration;
    if (!migration) return;
    const statements = this.statements.get(migration) ?? [];
    statements.push(query.trim().replace(/;$/, ''));
    this.statements.set(migration, statements);
  }

  logQueryError(): void {}
  logQuerySlow(): void {}
  logSchemaBuild(): void {}
  logMigration(): void {}
  log(): void {}
}

async function main(out: string, extraMigrations: string[]): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'tasks-api-migration-sql-'));
  const server = await startEmbeddedPostgres({ dataDir: join(dataDir, 'pg'), port: 0, persistent: false });
  const log = new MigrationSqlLog();
  const dataSource = MigrationDataSource.create(loadConfig({ NODE_ENV: 'test', DATABASE_URL: server.url }).database);
  const migrations = [...(dataSource.options.migrations as string[]), ...extraMigrations.map((file) => resolve(file))];
  dataSource.setOptions({ logger: log, logging: ['query'], migrations });
  try {
    await dataSource.initialize();
    const [timeouts] = (await dataSource.query(
      `SELECT current_setting('lock_timeout') AS lock, current_setting('statement_timeout') AS statement`,
    )) as { lock: string; statement: string }[];
    await dataSource.runMigrations();

    rmSync(out, { recursive: true, force: true });
    mkdirSync(out, { recursive: true });
    for (const migration of dataSource.migrations) {
      const name = migration.name ?? migration.constructor.name;
      const inTransaction = migration.transaction !== false;
      const lines = [
        `-- ${name} (up), as migration:run sends it${inTransaction ? ', in one transaction' : ''}.`,
        // The connection's own settings (startup parameters), written out so that squawk sees them.
        ...(timeouts.lock === '0' ? [] : [`SET lock_timeout = '${timeouts.lock}';`]),
        ...(timeouts.statement === '0' ? [] : [`SET statement_timeout = '${timeouts.statement}';`]),
        ...(inTransaction ? ['BEGIN;'] : []),
        ...(log.statements.get(name) ?? []).map((statement) => `${statement};`),
        ...(inTransaction ? ['COMMIT;'] : []),
      ];
      writeFileSync(join(out, `${name.slice(-13)}-${name.slice(0, -13)}.sql`), `${lines.join('\n')}\n`);
    }
    console.log(`wrote the SQL of ${dataSource.migrations.length} migrations to ${out}`);
  } finally {
    await dataSource.destroy();
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const [out, ...extra] = process.argv.slice(2);
if (!out) {
  console.error('usage: scripts/migration-sql.ts <out-dir> [more migration files...]');
  process.exit(2);
}
main(out, extra).catch((error: unknown) => {
  console.error(`migration-sql: ${(error as Error)?.message ?? String(error)}`);
  process.exit(1);
});
