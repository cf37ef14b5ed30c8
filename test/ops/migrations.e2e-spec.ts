import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { buildDataSourceOptions } from '../../src/database/data-source.options';
import { MigrationDataSource } from '../../src/database/migration.data-source';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { appliedMigrations, databaseConfig, MIGRATIONS, publicTables, TABLES } from '../support/migrations';

const ROOT = join(__dirname, '..', '..');

jest.setTimeout(60_000);

describe('migrations', () => {
  let db: TestDatabase;

  beforeEach(async () => {
    db = await createTestDatabase({ migrated: false });
  });
  afterEach(() => db.drop());

  it('run, revert one by one and run again cleanly', async () => {
    const dataSource = new MigrationDataSource(buildDataSourceOptions(databaseConfig(db.url), 'migrations'));
    await dataSource.initialize();
    try {
      expect((await dataSource.runMigrations()).map((m) => m.name)).toEqual(MIGRATIONS);
      expect(await appliedMigrations(db.pool)).toEqual(MIGRATIONS);
      expect(await publicTables(db.pool)).toEqual(TABLES);

      for (let applied = MIGRATIONS.length - 1; applied >= 0; applied--) {
        await dataSource.undoLastMigration();
        expect(await appliedMigrations(db.pool)).toEqual(MIGRATIONS.slice(0, applied));
        if (applied === 1) expect(await publicTables(db.pool)).toEqual(['sessions', 'tasks', 'users']);
      }
      expect(await publicTables(db.pool)).toEqual([]);
      const functions = await db.pool.query(
        `SELECT proname FROM pg_proc WHERE pronamespace = 'public'::regnamespace ORDER BY proname`,
      );
      expect(functions.rows).toEqual([]);

      expect((await dataSource.runMigrations()).map((m) => m.name)).toEqual(MIGRATIONS);
      expect(await appliedMigrations(db.pool)).toEqual(MIGRATIONS);
      expect(await publicTables(db.pool)).toEqual(TABLES);
      expect(await dataSource.runMigrations()).toEqual([]);
    } finally {
      await dataSource.destroy();
    }
  });

  describe('through the npm scripts', () => {
    function npm(script: string): Promise<{ code: number; output: string }> {
      return new Promise((resolve) => {
        execFile(
          'npm',
          ['run', '--silent', script],
          {
            cwd: ROOT,
            env: { PATH: process.env.PATH, HOME: process.env.HOME, NODE_ENV: 'test', DATABASE_URL: db.url },
            timeout: 120_000,
          },
          (error, stdout, stderr) => {
            const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
            resolve({ code, output: `${stdout}\n${stderr}` });
          },
        );
      });
    }

    it('show, run, revert and run again', async () => {
      let result = await npm('migration:show');
      expect(result).toEqual({ code: 0, output: expect.stringMatching(/\[ \] InitialSchema1795420000000/) });
      expect(await appliedMigrations(db.pool)).toEqual([]);

      result = await npm('migration:run');
      expect(result.code).toBe(0);
      expect(await appliedMigrations(db.pool)).toEqual(MIGRATIONS);
      expect(await publicTables(db.pool)).toEqual(TABLES);

      result = await npm('migration:show');
      expect(result).toEqual({
        code: 0,
        output: expect.stringMatching(/\[X\] \d+ BucketedSearchIndex1795420000004/),
      });

      result = await npm('migration:revert');
      expect(result.code).toBe(0);
      expect(await appliedMigrations(db.pool)).toEqual(MIGRATIONS.slice(0, -1));

      result = await npm('migration:run');
      expect(result.code).toBe(0);
      expect(await appliedMigrations(db.pool)).toEqual(MIGRATIONS);
      expect(await publicTables(db.pool)).toEqual(TABLES);
    }, 240_000);

    // Two pods or a retried Job starting the deploy step together: the advisory lock lets one apply.
    it('apply each migration exactly once when two migration:run start at once, and both succeed', async () => {
      const runs = await Promise.all([npm('migration:run'), npm('migration:run')]);
      expect(runs.map((run) => run.code)).toEqual([0, 0]);
      expect(await appliedMigrations(db.pool)).toEqual(MIGRATIONS);
      expect(await publicTables(db.pool)).toEqual(TABLES);
    }, 240_000);
  });
});
