import { setTimeout as sleep } from 'node:timers/promises';
import { DataSource, type Migration, MigrationExecutor, type QueryRunner } from 'typeorm';
import { databaseConfig, type DatabaseConfig, type MigrationLimits } from '../config/database.config';
import { validateEnv } from '../config/env.validation';
import { prepareAppRole } from './app-role';
import { BoundedMigration } from './bounded-migration';
import { buildDataSourceOptions } from './data-source.options';
import type { EmbeddedPostgres } from './embedded-postgres';
import { describeBlockers, isLockTimeout, MigrationError, MigrationStepError, retryDelayMs } from './migration-locks';

// Any fixed 64-bit key, the same for every replica and Job of this service.
const MIGRATION_LOCK_KEY = '7361726b73617069';
const LOCK_POLL_MS = 250;

/**
 * The data source migrations run through, from the TypeORM CLI (`ormconfig.ts`) and from the app's
 * embedded-database start-up. Running and reverting hold a PostgreSQL advisory lock on their own
 * connection, so two pods or a retried Job starting at once apply each migration exactly once: the
 * second waits, then finds nothing pending.
 *
 * No migration waits long for a table lock: its connection has a short lock_timeout (a statement queued
 * behind a long transaction would queue every query on that table behind itself). One that hits it is
 * rolled back and retried after a pause, a bounded number of times; then the run fails with one line
 * naming the migration and the session holding the lock.
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

  /** Applies pending migrations, then grants the app role its rights and pins its timeouts (app-role.ts). */
  override runMigrations(options?: Parameters<DataSource['runMigrations']>[0]): Promise<Migration[]> {
    return this.withLock(async () => {
      this.bound();
      const pending = await new MigrationExecutor(this).getPendingMigrations();
      await this.retrying('the migration bookkeeping', () => super.runMigrations(options));
      const left = new Set((await new MigrationExecutor(this).getPendingMigrations()).map(({ name }) => name));
      if (this.database) {
        const database = this.database;
        await this.retrying('the app role grants', () => prepareAppRole(this, database));
      }
      return pending.filter(({ name }) => !left.has(name));
    });
  }

  override undoLastMigration(options?: Parameters<DataSource['undoLastMigration']>[0]): Promise<void> {
    return this.withLock(() => {
      this.bound();
      return this.retrying('the migration bookkeeping', () => super.undoLastMigration(options));
    });
  }

  override async destroy(): Promise<void> {
    if (this.isInitialized) await super.destroy();
    await this.embedded?.stop();
  }

  private get limits(): MigrationLimits {
    // Built with `new` (tests, tools) rather than create(): the defaults.
    return (this.database ?? databaseConfig(validateEnv({}))).migrations;
  }

  /** Wraps each migration once (see BoundedMigration). */
  private bound(): void {
    const { lockTimeoutMs } = this.limits;
    this.migrations.forEach((migration, index) => {
      if (migration instanceof BoundedMigration) return;
      this.migrations[index] = new BoundedMigration(migration, lockTimeoutMs, (pid) => this.blockersOf(pid));
    });
  }

  /** From a pooled connection of its own, so TypeORM's query log stays the migrations' SQL. */
  private async blockersOf(pid: number): Promise<string | undefined> {
    const [client, release] = (await this.driver.obtainMasterConnection()) as [
      { query: Parameters<typeof describeBlockers>[0] },
      () => void,
    ];
    try {
      return await describeBlockers((sql, params) => client.query(sql, params), pid);
    } finally {
      release();
    }
  }

  /** Runs `work` again after a pause while it fails at lock_timeout, at most MIGRATION_LOCK_RETRIES times per step. */
  private async retrying<T>(outside: string, work: () => Promise<T>): Promise<T> {
    const limits = this.limits;
    const attempts = new Map<string, number>();
    for (;;) {
      try {
        return await work();
      } catch (error) {
        if (!isLockTimeout(error)) throw error;
        const step =
          error instanceof MigrationStepError ? `Migration ${error.migration} (${error.direction})` : outside;
        const blocker = (error instanceof MigrationStepError && error.blocker) || 'the blocking session is unknown';
        const attempt = (attempts.get(step) ?? 0) + 1;
        attempts.set(step, attempt);
        const timeout = `lock_timeout (${limits.lockTimeoutMs} ms)`;
        if (attempt > limits.lockRetries) {
          throw new MigrationError(
            `${step} gave up after ${attempt} attempt${attempt === 1 ? '' : 's'}, each ending at ${timeout}: ${blocker}. ` +
              'End that transaction or let it finish, then run the migrations again.',
            '55P03',
          );
        }
        const delay = retryDelayMs(limits, attempt);
        console.warn(`${step} hit ${timeout}: ${blocker}; retry ${attempt} of ${limits.lockRetries} in ${delay} ms`);
        await sleep(delay);
      }
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
