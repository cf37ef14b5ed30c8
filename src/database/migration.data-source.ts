import { escapeIdentifier } from 'pg';
import { setTimeout as sleep } from 'node:timers/promises';
import { DataSource, type Migration, type QueryRunner } from 'typeorm';
import type { DatabaseConfig } from '../config/database.config';
import { buildDataSourceOptions } from './data-source.options';
import type { EmbeddedPostgres } from './embedded-postgres';
import { parsePostgresUrl } from './postgres-url';

// Any fixed 64-bit key, the same for every replica and Job of this service.
const MIGRATION_LOCK_KEY = '7361726b73617069';
const LOCK_POLL_MS = 250;

/**
 * The data source migrations run through, from the TypeORM CLI (`ormconfig.ts`) and from the app's
 * embedded-database start-up. Running and reverting hold a PostgreSQL advisory lock on their own
 * connection, so two pods or a retried Job starting at once apply each migration exactly once: the
 * second waits, then finds nothing pending.
 */
export class MigrationDataSource extends DataSource {
  /** An embedded server started for this data source, stopped with it. */
  embedded?: EmbeddedPostgres;
  private database?: DatabaseConfig;

  static create(database: DatabaseConfig): MigrationDataSource {
    const dataSource = new MigrationDataSource(buildDataSourceOptions(database, 'migrations'));
    dataSource.database = database;
    return dataSource;
  }

  /** Applies pending migrations, then pins the app role's timeouts (see `pinRoleTimeouts`). */
  override runMigrations(options?: Parameters<DataSource['runMigrations']>[0]): Promise<Migration[]> {
    return this.withLock(async () => {
      const applied = await super.runMigrations(options);
      await this.pinRoleTimeouts();
      return applied;
    });
  }

  override undoLastMigration(options?: Parameters<DataSource['undoLastMigration']>[0]): Promise<void> {
    return this.withLock(() => super.undoLastMigration(options));
  }

  override async destroy(): Promise<void> {
    if (this.isInitialized) await super.destroy();
    await this.embedded?.stop();
  }

  /**
   * Behind PgBouncer in transaction mode (Neon's pooler) timeouts cannot travel as startup parameters,
   * so the app's role gets them as its own defaults in this database, where every pooled session picks
   * them up. Over a direct connection the app's startup parameters override them anyway.
   */
  private async pinRoleTimeouts(): Promise<void> {
    const appUrl = this.database?.url ?? this.database?.migrationsUrl;
    if (!this.database || !appUrl) return;
    const role = escapeIdentifier(parsePostgresUrl(appUrl).user);
    const [{ db }] = (await this.query('SELECT current_database() AS db')) as { db: string }[];
    const scope = `ALTER ROLE ${role} IN DATABASE ${escapeIdentifier(db)} SET`;
    try {
      await this.query(`${scope} statement_timeout = ${Math.trunc(this.database.statementTimeoutMs)}`);
      await this.query(
        `${scope} idle_in_transaction_session_timeout = ${Math.trunc(this.database.idleInTransactionTimeoutMs)}`,
      );
    } catch (error) {
      console.warn(
        `Could not set the timeouts of role ${role} (${(error as Error).message}); behind a pooler, run as its owner: ` +
          `${scope} statement_timeout = ${this.database.statementTimeoutMs}`,
      );
    }
  }

  private async tryLock(runner: QueryRunner): Promise<boolean> {
    const [{ locked }] = (await runner.query(
      `SELECT pg_try_advisory_lock(x'${MIGRATION_LOCK_KEY}'::bigint) AS locked`,
    )) as { locked: boolean }[];
    return locked;
  }

  private async withLock<T>(work: () => Promise<T>): Promise<T> {
    const runner = this.createQueryRunner();
    await runner.connect();
    try {
      // Polled, not waited for: a statement blocked in pg_advisory_lock holds a snapshot, and CREATE INDEX
      // CONCURRENTLY in the holder's migration would wait for that snapshot forever.
      while (!(await this.tryLock(runner))) await sleep(LOCK_POLL_MS);
      return await work();
    } finally {
      await runner.query(`SELECT pg_advisory_unlock(x'${MIGRATION_LOCK_KEY}'::bigint)`).catch(() => undefined);
      await runner.release();
    }
  }
}
