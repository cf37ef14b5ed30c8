import { Pool } from 'pg';
import { statementName, StatementRunner } from '../../src/database/statement-runner';
import { createTestDatabase, type TestDatabase } from '../support/database';

// The runner behind every task route and the session check (src/database/sql.ts), on a real server. What
// it does behind a pooler that drops prepared statements is in test/faults/pgbouncer.e2e-spec.ts.
describe('StatementRunner', () => {
  let db: TestDatabase;
  let pool: Pool;
  const SELECT = { text: 'SELECT n, body FROM notes WHERE n = $1', values: [1] };

  /** The prepared statements of the pool's one connection. */
  const prepared = async () =>
    (
      await pool.query<{ name: string; statement: string; executions: number }>(
        `SELECT name, statement, (generic_plans + custom_plans)::int AS executions
           FROM pg_prepared_statements ORDER BY name`,
      )
    ).rows;
  const backend = async () => (await pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0].pid;

  beforeAll(async () => {
    db = await createTestDatabase({ migrated: false });
  });
  beforeEach(async () => {
    await db.pool.query('DROP TABLE IF EXISTS notes');
    await db.pool.query(`CREATE TABLE notes (n int PRIMARY KEY, body text NOT NULL)`);
    await db.pool.query(`INSERT INTO notes VALUES (1, 'one'), (2, 'two')`);
    pool = new Pool({ connectionString: db.url, max: 1 });
  });
  afterEach(() => pool.end());
  afterAll(() => db.drop());

  it('prepares a statement once per connection, under a name derived from its text', async () => {
    const runner = new StatementRunner(pool, true);
    expect(await runner.query(SELECT)).toEqual({ rows: [{ n: 1, body: 'one' }], rowCount: 1 });
    expect((await runner.query({ ...SELECT, values: [2] })).rows).toEqual([{ n: 2, body: 'two' }]);
    const update = { text: 'UPDATE notes SET body = $2 WHERE n = $1', values: [2, 'deux'] };
    expect((await runner.query(update)).rowCount).toBe(1);

    expect(await prepared()).toEqual(
      [
        { name: statementName(SELECT.text), statement: SELECT.text, executions: 2 },
        { name: statementName(update.text), statement: update.text, executions: 1 },
      ].sort((a, b) => a.name.localeCompare(b.name)),
    );
    expect(statementName(SELECT.text)).toBe(statementName(`${SELECT.text}`));
    expect(statementName(SELECT.text)).not.toBe(statementName(update.text));
  });

  it('names nothing when prepared statements are off', async () => {
    const runner = new StatementRunner(pool, false);
    expect((await runner.query(SELECT)).rows).toEqual([{ n: 1, body: 'one' }]);
    expect(await prepared()).toEqual([]);
  });

  it('survives a migration that changes a returned column: runs the statement again, on a fresh connection', async () => {
    const runner = new StatementRunner(pool, true);
    await runner.query(SELECT);
    const before = await backend();
    await db.pool.query('ALTER TABLE notes ALTER COLUMN n TYPE bigint');

    // node-postgres returns bigint as a string: the answer comes from the new column type.
    expect((await runner.query(SELECT)).rows).toEqual([{ n: '1', body: 'one' }]);
    expect(await backend()).not.toBe(before);
    expect(runner.preparing).toBe(true);
    expect((await runner.query(SELECT)).rows).toEqual([{ n: '1', body: 'one' }]);
  });

  it('passes other errors on and keeps the connection', async () => {
    const runner = new StatementRunner(pool, true);
    const insert = { text: 'INSERT INTO notes VALUES ($1, $2)', values: [1, 'again'] };
    const before = await backend();
    await expect(runner.query(insert)).rejects.toMatchObject({ code: '23505' });
    await expect(runner.query(insert)).rejects.toMatchObject({ code: '23505' });
    expect(await backend()).toBe(before);
    expect(runner.preparing).toBe(true);
  });
});
