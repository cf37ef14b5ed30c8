import type { MigrationInterface, QueryRunner } from 'typeorm';
import { loadConfig } from '../../src/config/configuration';
import { MigrationDataSource } from '../../src/database/migration.data-source';
import { createTestDatabase, type TestDatabase } from '../support/database';

// MIGRATION_STATEMENT_TIMEOUT_MS (issue #19): a migration statement that runs too long is cancelled and
// the run fails naming the migration; a CREATE INDEX CONCURRENTLY, which blocks no writes, may take as
// long as the table needs.

jest.setTimeout(60_000);

const STATEMENT_TIMEOUT_MS = 1_000;

class SlowStatement1990000000001 implements MigrationInterface {
  name = 'SlowStatement1990000000001';
  async up(db: QueryRunner): Promise<void> {
    await db.query('SELECT pg_sleep(3)');
  }
  async down(): Promise<void> {}
}

class SlowConcurrentBuild1990000000002 implements MigrationInterface {
  name = 'SlowConcurrentBuild1990000000002';
  transaction = false;
  async up(db: QueryRunner): Promise<void> {
    await db.query('CREATE TABLE slow_rows (id bigint PRIMARY KEY)');
    await db.query('INSERT INTO slow_rows SELECT generate_series(1, 4)');
    // Declared IMMUTABLE so it can be indexed: each row costs the build 0.4 s, twice (build and validation).
    await db.query(`
      CREATE FUNCTION slow_key(id bigint) RETURNS bigint LANGUAGE plpgsql IMMUTABLE
      AS $$ BEGIN PERFORM pg_sleep(0.4); RETURN id; END $$`);
    await db.query('CREATE INDEX CONCURRENTLY slow_rows_key_idx ON slow_rows (slow_key(id))');
    await db.query(`CREATE TABLE timeout_after AS SELECT current_setting('statement_timeout') AS value`);
  }
  async down(): Promise<void> {}
}

async function migrate(db: TestDatabase, migration: new () => MigrationInterface): Promise<number> {
  const env = { NODE_ENV: 'test', DATABASE_URL: db.url, MIGRATION_STATEMENT_TIMEOUT_MS: String(STATEMENT_TIMEOUT_MS) };
  const dataSource = MigrationDataSource.create(loadConfig(env).database);
  dataSource.setOptions({ migrations: [migration] });
  await dataSource.initialize();
  const started = Date.now();
  try {
    await dataSource.runMigrations();
    return Date.now() - started;
  } finally {
    await dataSource.destroy();
  }
}

describe('the statement timeout of migrations', () => {
  let db: TestDatabase;
  beforeEach(async () => {
    db = await createTestDatabase({ migrated: false });
  });
  afterEach(() => db.drop());

  it('cancels a statement that runs longer, naming the migration', async () => {
    await expect(migrate(db, SlowStatement1990000000001)).rejects.toThrow(
      /^Migration SlowStatement1990000000001 \(up\) failed: canceling statement due to statement timeout$/,
    );
    const { rows } = await db.pool.query(`SELECT count(*)::int AS n FROM migrations`);
    expect(rows[0].n).toBe(0);
  });

  it('lets CREATE INDEX CONCURRENTLY run past it, and restores it afterwards', async () => {
    const ms = await migrate(db, SlowConcurrentBuild1990000000002);
    console.log(`a CREATE INDEX CONCURRENTLY of ${ms} ms under a ${STATEMENT_TIMEOUT_MS} ms statement_timeout`);
    expect(ms).toBeGreaterThan(STATEMENT_TIMEOUT_MS);
    const { rows } = await db.pool.query(
      `SELECT indisvalid AS valid FROM pg_index WHERE indexrelid = 'slow_rows_key_idx'::regclass`,
    );
    expect(rows).toEqual([{ valid: true }]);
    const after = await db.pool.query('SELECT value FROM timeout_after');
    expect(after.rows).toEqual([{ value: '1s' }]);
  });
});
