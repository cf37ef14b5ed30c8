import { Client } from 'pg';
import { loadConfig } from '../../src/config/configuration';
import { lockGiveUpBoundMs } from '../../src/database/migration-locks';
import { MigrationDataSource } from '../../src/database/migration.data-source';
import { runMigrations } from '../../src/database/run-migrations';
import { startTestApp } from '../support/app';
import { API, registerUser } from '../support/auth';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { migrationCli } from '../support/migration-cli';

// Bounded lock waits (issue #19): a migration that needs a lock held by a long transaction gives up at
// lock_timeout, is retried a bounded number of times, then fails naming the blocking session, while the
// app's queries on that table wait at most about one lock_timeout behind it.

jest.setTimeout(120_000);

// The migration that builds an index CONCURRENTLY. Later ones are reverted first where a test needs it pending.
const CONCURRENT = 'BucketedSearchIndex1795420000004';
const LIMITS = { MIGRATION_LOCK_TIMEOUT_MS: '1000', MIGRATION_LOCK_RETRIES: '2', MIGRATION_LOCK_RETRY_DELAY_MS: '500' };
const limits = (env: Record<string, string>) => loadConfig({ NODE_ENV: 'test', ...env }).database.migrations;

/** A session that keeps a transaction open, as a long report or a stuck batch job would. */
async function holdLock(db: TestDatabase, name: string, statement: string): Promise<Client & { pid: number }> {
  const client = new Client({ connectionString: db.url, application_name: name });
  await client.connect();
  const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
  await client.query('BEGIN');
  await client.query(statement);
  return Object.assign(client, { pid: rows[0].pid });
}

/** A report reading every table (the migrations' own aside): whatever the last migration alters, it waits. */
async function holdEveryTable(db: TestDatabase, name: string): Promise<Client & { pid: number }> {
  const { rows } = await db.pool.query<{ tables: string }>(
    `SELECT string_agg(quote_ident(tablename), ', ') AS tables FROM pg_tables
      WHERE schemaname = 'public' AND tablename <> 'migrations'`,
  );
  return holdLock(db, name, `LOCK TABLE ${rows[0].tables} IN ACCESS SHARE MODE`);
}

async function applied(db: TestDatabase): Promise<string[]> {
  const { rows } = await db.pool.query<{ name: string }>('SELECT name FROM migrations ORDER BY id');
  return rows.map((row) => row.name);
}

async function invalidIndexes(db: TestDatabase): Promise<string[]> {
  const { rows } = await db.pool.query<{ name: string }>(
    `SELECT indexrelid::regclass::text AS name FROM pg_index WHERE NOT indisvalid ORDER BY 1`,
  );
  return rows.map((row) => row.name);
}

/** Reverts, without any lock held, until `name` is pending again. */
async function revertThrough(db: TestDatabase, name: string): Promise<void> {
  const dataSource = MigrationDataSource.create(loadConfig({ NODE_ENV: 'test', DATABASE_URL: db.url }).database);
  await dataSource.initialize();
  try {
    while ((await applied(db)).includes(name)) await dataSource.undoLastMigration();
  } finally {
    await dataSource.destroy();
  }
}

describe('a migration that needs a lock a long transaction holds', () => {
  it('gives up within the configured bounds naming the blocker, while the API keeps answering', async () => {
    const t = await startTestApp();
    const last = (await applied(t.db)).at(-1);
    const holder = await holdEveryTable(t.db, 'long-report');
    try {
      const { accessToken } = await registerUser(t.api);
      const latencies: number[] = [];
      const statuses = new Set<number>();
      let running = true;
      const load = Array.from({ length: 3 }, async (_, worker) => {
        for (let i = 0; running; i++) {
          const started = Date.now();
          const res =
            (i + worker) % 2 === 0
              ? await t.api.get(`${API}/tasks`).auth(accessToken, { type: 'bearer' })
              : await t.api
                  .post(`${API}/tasks`)
                  .auth(accessToken, { type: 'bearer' })
                  .send({ title: `during the migration ${worker}-${i}` });
          latencies.push(Date.now() - started);
          statuses.add(res.status);
        }
      });

      const revert = await migrationCli('migration:revert', { DATABASE_URL: t.db.url, ...LIMITS });
      running = false;
      await Promise.all(load);

      const worst = Math.max(...latencies);
      const bound = lockGiveUpBoundMs(limits(LIMITS));
      console.log(
        `migration:revert behind a held lock: exit ${revert.code} after ${revert.ms} ms (lock bound ${bound} ms); ` +
          `${latencies.length} API requests meanwhile, worst latency ${worst} ms (lock_timeout 1000 ms)`,
      );
      const giveUp = revert.output.split('\n').find((line) => line.includes('gave up'));
      expect(giveUp).toMatch(
        new RegExp(
          `^MigrationError: Migration ${last} \\(down\\) gave up after 3 attempts, each ending at lock_timeout \\(1000 ms\\): ` +
            `waiting for AccessExclusiveLock on (\\w+), held by pid ${holder.pid} \\(application_name "long-report", ` +
            `user postgres, idle in transaction, transaction open \\d+\\.\\d s, holding AccessShareLock on \\1\\)\\. ` +
            'End that transaction or let it finish, then run the migrations again\\.$',
        ),
      );
      expect(revert.output.match(/hit lock_timeout \(1000 ms\).*; retry \d of 2 in \d+ ms/g)).toHaveLength(2);
      expect(revert.code).toBe(1);
      // The CLI's own start-up comes on top of the lock bound: generous.
      expect(revert.ms).toBeLessThan(bound + 30_000);
      expect([...statuses]).toEqual(expect.arrayContaining([200]));
      expect([...statuses].every((status) => status === 200 || status === 201)).toBe(true);
      expect(worst).toBeLessThan(1_000 + 4_000);
      expect((await applied(t.db)).at(-1)).toBe(last);
    } finally {
      await holder.end();
      await t.close();
    }
  });

  it('retries after a pause and completes once the lock is free', async () => {
    const db = await createTestDatabase();
    const last = (await applied(db)).at(-1);
    const holder = await holdEveryTable(db, 'short-report');
    try {
      const env = { DATABASE_URL: db.url, ...LIMITS, MIGRATION_LOCK_RETRY_DELAY_MS: '1500' };
      let released: Promise<void> | undefined;
      const revert = await migrationCli('migration:revert', env, {
        onLine: (line) => {
          if (/retry 1 of 2/.test(line)) released ??= holder.query('COMMIT').then(() => undefined);
        },
      });
      await released;
      expect(revert.output).toMatch(new RegExp(`Migration ${last} \\(down\\) hit lock_timeout .* held by pid`));
      expect(revert.output).not.toMatch(/gave up/);
      expect(revert.code).toBe(0);
      expect(await applied(db)).not.toContain(last);
    } finally {
      await holder.end();
      await db.drop();
    }
  });

  it('drops the INVALID index a timed-out CREATE INDEX CONCURRENTLY left, before the next attempt', async () => {
    const db = await createTestDatabase();
    const all = await applied(db);
    await revertThrough(db, CONCURRENT);
    const holder = await holdLock(db, 'bulk-import', 'LOCK TABLE tasks IN ROW EXCLUSIVE MODE');
    try {
      const env = { DATABASE_URL: db.url, ...LIMITS, MIGRATION_LOCK_RETRIES: '1' };
      const blocked = await migrationCli('migration:run', env);
      const giveUp = blocked.output.split('\n').find((line) => line.includes('gave up'));
      console.log(`migration:run behind an open write: exit ${blocked.code}: ${giveUp}`);
      expect(giveUp).toMatch(
        new RegExp(
          `Migration ${CONCURRENT} \\(up\\) gave up after 2 attempts, .*: waiting for the end of older transactions ` +
            `\\(virtualxid\\), held by pid ${holder.pid} \\(application_name "bulk-import", .*holding RowExclusiveLock on tasks\\)`,
        ),
      );
      expect(blocked.code).toBe(1);
      // The second attempt began by dropping what the first left behind (and timed out there, too).
      expect(blocked.output).toContain('Dropping INVALID index public.tasks_search_bucketed_idx');
      expect(await invalidIndexes(db)).toEqual(['tasks_search_bucketed_idx']);

      await holder.query('COMMIT');
      const retried = await migrationCli('migration:run', env);
      expect(retried.output).toContain('Dropping INVALID index public.tasks_search_bucketed_idx');
      expect(retried.code).toBe(0);
      expect(await invalidIndexes(db)).toEqual([]);
      expect(await applied(db)).toEqual(all);
      const { rows } = await db.pool.query(`SELECT indexdef FROM pg_indexes WHERE indexname = 'tasks_search_idx'`);
      expect(rows[0].indexdef).toMatch(/tasks_search_document/);
    } finally {
      await holder.end();
      await db.drop();
    }
  });

  it('bounds the start-up run on the embedded database (run-migrations.ts) the same way', async () => {
    const db = await createTestDatabase();
    await revertThrough(db, CONCURRENT);
    const holder = await holdLock(db, 'open-session', 'SELECT count(*) FROM tasks');
    try {
      const database = loadConfig({
        NODE_ENV: 'test',
        DATABASE_URL: db.url,
        ...LIMITS,
        MIGRATION_LOCK_RETRIES: '0',
      }).database;
      const session = MigrationDataSource.create(database);
      await session.initialize();
      const settings = await session.query(
        `SELECT current_setting('lock_timeout') AS lock, current_setting('statement_timeout') AS statement`,
      );
      await session.destroy();
      expect(settings).toEqual([{ lock: '1s', statement: '10min' }]);

      const started = Date.now();
      await expect(runMigrations(database)).rejects.toThrow(
        new RegExp(`^Migration ${CONCURRENT} \\(up\\) gave up after 1 attempt, .* held by pid ${holder.pid}`),
      );
      expect(Date.now() - started).toBeLessThan(15_000);
    } finally {
      await holder.end();
      await db.drop();
    }
  });
});
