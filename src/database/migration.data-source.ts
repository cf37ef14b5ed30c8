import { DataSource, type Migration } from 'typeorm';
import type { EmbeddedPostgres } from './embedded-postgres';

// Any fixed 64-bit key, the same for every replica and Job of this service.
const MIGRATION_LOCK_KEY = '7361726b73617069';

/**
 * The data source migrations run through, from the TypeORM CLI (`ormconfig.ts`) and from the app's
 * embedded-database start-up. Running and reverting hold a PostgreSQL advisory lock on their own
 * connection, so two pods or a retried Job starting at once apply each migration exactly once: the
 * second waits, then finds nothing pending.
 */
export class MigrationDataSource extends DataSource {
  /** An embedded server started for this data source, stopped with it. */
  embedded?: EmbeddedPostgres;

  override runMigrations(options?: Parameters<DataSource['runMigrations']>[0]): Promise<Migration[]> {
    return this.withLock(() => super.runMigrations(options));
  }

  override undoLastMigration(options?: Parameters<DataSource['undoLastMigration']>[0]): Promise<void> {
    return this.withLock(() => super.undoLastMigration(options));
  }

  override async destroy(): Promise<void> {
    if (this.isInitialized) await super.destroy();
    await this.embedded?.stop();
  }

  private async withLock<T>(work: () => Promise<T>): Promise<T> {
    const runner = this.createQueryRunner();
    await runner.connect();
    try {
      await runner.query(`SELECT pg_advisory_lock(x'${MIGRATION_LOCK_KEY}'::bigint)`);
      return await work();
    } finally {
      await runner.query(`SELECT pg_advisory_unlock(x'${MIGRATION_LOCK_KEY}'::bigint)`).catch(() => undefined);
      await runner.release();
    }
  }
}
