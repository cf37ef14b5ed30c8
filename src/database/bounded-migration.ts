import type { MigrationInterface, QueryRunner } from 'typeorm';
import { MigrationStepError } from './migration-locks';

// Index builds that run outside a transaction and may take minutes on a big table: statement_timeout does
// not apply to them (lock_timeout still does, to their waits for older transactions).
const CONCURRENT_BUILD = /^(?:\s|--[^\n]*\n)*(?:CREATE\s+(?:UNIQUE\s+)?INDEX|REINDEX)\b[^;]*?\bCONCURRENTLY\b/i;

// An index a CREATE INDEX CONCURRENTLY left INVALID when it failed, and no build still in progress.
const LEFTOVER_INVALID_INDEXES = `
  SELECT format('%I.%I', n.nspname, c.relname) AS name
    FROM pg_index i
    JOIN pg_class c ON c.oid = i.indexrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE NOT i.indisvalid AND n.nspname = current_schema()
     AND NOT EXISTS (SELECT 1 FROM pg_stat_progress_create_index p WHERE p.index_relid = i.indexrelid)`;

/** Describes what blocks a backend (see describeBlockers), from a connection of its own. */
export type BlockerSampler = (pid: number) => Promise<string | undefined>;

/**
 * A migration run by MigrationDataSource. Its statements run under the connection's lock_timeout; while
 * one waits, what blocks it is sampled from another connection, so a failure can name the blocking
 * session. Outside a transaction it first drops the INVALID indexes a failed CONCURRENTLY build left,
 * so a retried `CREATE INDEX CONCURRENTLY` starts clean. Failures become one-line MigrationStepErrors.
 */
export class BoundedMigration implements MigrationInterface {
  readonly name: string;
  readonly transaction?: boolean;

  constructor(
    private readonly inner: MigrationInterface,
    private readonly lockTimeoutMs: number,
    private readonly sampleBlockers: BlockerSampler,
  ) {
    this.name = inner.name ?? inner.constructor.name;
    this.transaction = inner.transaction;
  }

  up(runner: QueryRunner): Promise<void> {
    return this.run('up', runner);
  }

  down(runner: QueryRunner): Promise<void> {
    return this.run('down', runner);
  }

  private async run(direction: 'up' | 'down', runner: QueryRunner): Promise<void> {
    const { processID } = (await runner.connect()) as { processID: number };
    const watch = new LockWatch(processID, this.lockTimeoutMs, this.sampleBlockers);
    const guarded = guard(runner, watch);
    // QueryRunner.data is TypeORM's place for user data: loggers can tell which migration sent a query.
    runner.data = { ...runner.data, migration: this.name };
    try {
      if (!runner.isTransactionActive) await dropLeftoverInvalidIndexes(guarded);
      await this.inner[direction](guarded);
    } catch (error) {
      throw new MigrationStepError(this.name, direction, error, watch.blocker);
    } finally {
      delete (runner.data as { migration?: string }).migration;
    }
  }
}

async function dropLeftoverInvalidIndexes(runner: QueryRunner): Promise<void> {
  const leftovers = (await runner.query(LEFTOVER_INVALID_INDEXES)) as { name: string }[];
  for (const { name } of leftovers) {
    console.warn(`Dropping INVALID index ${name}, left by a CREATE INDEX CONCURRENTLY that did not finish`);
    await runner.query(`DROP INDEX CONCURRENTLY IF EXISTS ${name}`);
  }
}

/** The runner as the migration sees it: every statement watched, concurrent index builds without statement_timeout. */
function guard(runner: QueryRunner, watch: LockWatch): QueryRunner {
  const query = async (sql: string, ...rest: unknown[]): Promise<unknown> => {
    const concurrentBuild = CONCURRENT_BUILD.test(sql);
    if (concurrentBuild) await runner.query('SET statement_timeout = 0');
    try {
      return await watch.around(() => (runner.query as (...args: unknown[]) => Promise<unknown>)(sql, ...rest));
    } finally {
      if (concurrentBuild) await runner.query('RESET statement_timeout').catch(() => undefined);
    }
  };
  return new Proxy(runner, {
    get: (target, property, receiver) => (property === 'query' ? query : Reflect.get(target, property, receiver)),
  });
}

/** Samples what blocks the migration's backend while a statement runs; keeps the latest answer. */
class LockWatch {
  blocker?: string;
  private sampling = false;

  constructor(
    private readonly pid: number,
    private readonly lockTimeoutMs: number,
    private readonly sample: BlockerSampler,
  ) {}

  async around<T>(statement: () => Promise<T>): Promise<T> {
    this.blocker = undefined;
    // Several samples within each lock wait: the last one before the timeout names who still held the lock.
    const timer = setInterval(() => this.poll(), Math.max(50, Math.floor(this.lockTimeoutMs / 5)));
    try {
      return await statement();
    } finally {
      clearInterval(timer);
    }
  }

  private poll(): void {
    if (this.sampling) return;
    this.sampling = true;
    this.sample(this.pid)
      .then((blocker) => {
        if (blocker) this.blocker = blocker;
      })
      .catch(() => undefined)
      .finally(() => (this.sampling = false));
  }
}
