import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import { DataSource } from 'typeorm';
import { buildDataSourceOptions } from '../../src/database/data-source.options';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { appliedMigrations, databaseConfig, MIGRATIONS, publicTables, TABLES } from '../support/migrations';

// jest.config.js sets testTimeout on the e2e project, where Jest ignores it (it reads only the top-level
// option), so hooks and tests would get 5 s: too little for starting services under a parallel run.
jest.setTimeout(60_000);

async function sqlState(pool: Pool, sql: string, params: unknown[] = []): Promise<string | undefined> {
  try {
    await pool.query(sql, params);
    return undefined;
  } catch (error) {
    return (error as { code?: string }).code;
  }
}

describe('the migrated schema', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(() => db.drop());

  async function insertUser(email = `${randomUUID()}@example.com`): Promise<string> {
    const id = randomUUID();
    await db.pool.query(`INSERT INTO users (id, email, name, password_hash) VALUES ($1, $2, 'Schema', 'x')`, [
      id,
      email,
    ]);
    return id;
  }

  async function insertTask(userId: string, fields: Record<string, unknown> = {}): Promise<string> {
    const row = { id: randomUUID(), user_id: userId, title: 'a task', ...fields };
    const names = Object.keys(row);
    await db.pool.query(
      `INSERT INTO tasks (${names.join(', ')}) VALUES (${names.map((_, i) => `$${i + 1}`).join(', ')})`,
      Object.values(row),
    );
    return row.id;
  }

  it('has every migration applied', async () => {
    expect(await appliedMigrations(db.pool)).toEqual(MIGRATIONS);
    expect(await publicTables(db.pool)).toEqual(TABLES);
  });

  describe('columns', () => {
    async function columns(table: string) {
      const { rows } = await db.pool.query(
        `SELECT column_name AS name, udt_name AS type, character_maximum_length AS length,
                is_nullable = 'YES' AS nullable, column_default AS "default"
           FROM information_schema.columns
          WHERE table_schema = 'public' AND table_name = $1
          ORDER BY ordinal_position`,
        [table],
      );
      return rows;
    }
    const col = (name: string, type: string, nullable = false, length: number | null = null, dflt?: string) =>
      expect.objectContaining({ name, type, nullable, length, ...(dflt === undefined ? {} : { default: dflt }) });

    it('users', async () => {
      expect(await columns('users')).toEqual([
        col('id', 'uuid'),
        col('email', 'varchar', false, 254),
        col('name', 'varchar', false, 100),
        col('password_hash', 'text'),
        col('created_at', 'timestamptz', false, null, 'now()'),
        col('updated_at', 'timestamptz', false, null, 'now()'),
      ]);
    });

    it('sessions', async () => {
      expect(await columns('sessions')).toEqual([
        col('id', 'uuid'),
        col('user_id', 'uuid'),
        col('refresh_token_hash', 'bytea', true),
        col('expires_at', 'timestamptz'),
        col('revoked_at', 'timestamptz', true),
        col('created_at', 'timestamptz', false, null, 'now()'),
        col('last_used_at', 'timestamptz', false, null, 'now()'),
        col('user_agent', 'varchar', true, 512),
        col('ip', 'inet', true),
        col('rotated_token_hashes', '_bytea', false, null, "'{}'::bytea[]"),
        col('refresh_generation', 'int4', false, null, '0'),
        col('refresh_key_nonce', 'bytea', true),
        col('authenticated_at', 'timestamptz', false, null, 'now()'),
      ]);
    });

    it('tasks', async () => {
      expect(await columns('tasks')).toEqual([
        col('id', 'uuid'),
        col('user_id', 'uuid'),
        col('title', 'varchar', false, 200),
        col('description', 'text', true),
        col('completed', 'bool', false, null, 'false'),
        col('completed_at', 'timestamptz', true),
        col('due_date', 'date', true),
        col('priority', 'varchar', false, 6, "'medium'::character varying"),
        col('created_at', 'timestamptz', false, null, 'now()'),
        col('updated_at', 'timestamptz', false, null, 'now()'),
        col('version', 'int4', false, null, '1'),
      ]);
    });

    it('idempotency_keys', async () => {
      expect(await columns('idempotency_keys')).toEqual([
        col('user_id', 'uuid'),
        col('key', 'varchar', false, 255),
        col('request_hash', 'bytea'),
        col('status', 'varchar', false, 11),
        col('response', 'jsonb', true),
        col('created_at', 'timestamptz', false, null, 'now()'),
      ]);
    });

    it('rate_limits, unlogged (a crash forgets counters, no hit writes WAL)', async () => {
      expect(await columns('rate_limits')).toEqual([
        col('key', 'text'),
        col('hits', 'int4'),
        col('window_ends_at', 'timestamptz'),
        col('blocked_until', 'timestamptz', true),
      ]);
      const { rows } = await db.pool.query(`SELECT relpersistence FROM pg_class WHERE oid = 'rate_limits'::regclass`);
      expect(rows).toEqual([{ relpersistence: 'u' }]);
    });

    it('stores every timestamp as timestamptz', async () => {
      const { rows } = await db.pool.query(
        `SELECT table_name, column_name FROM information_schema.columns
          WHERE table_schema = 'public' AND data_type LIKE 'timestamp%' AND data_type <> 'timestamp with time zone'`,
      );
      expect(rows).toEqual([]);
    });

    it('has the primary keys of SPEC §2', async () => {
      const { rows } = await db.pool.query(
        `SELECT c.conrelid::regclass::text AS "table",
                array_agg(a.attname::text ORDER BY array_position(c.conkey, a.attnum)) AS columns
           FROM pg_constraint c
           JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = ANY (c.conkey)
          WHERE c.contype = 'p' AND c.connamespace = 'public'::regnamespace
          GROUP BY c.conrelid ORDER BY 1`,
      );
      expect(rows).toEqual([
        { table: 'idempotency_keys', columns: ['user_id', 'key'] },
        { table: 'migrations', columns: ['id'] },
        { table: 'rate_limits', columns: ['key'] },
        { table: 'sessions', columns: ['id'] },
        { table: 'tasks', columns: ['id'] },
        { table: 'users', columns: ['id'] },
      ]);
    });
  });

  describe('integrity', () => {
    it('has a unique index on lower(email) that refuses the same address in another case', async () => {
      const { rows } = await db.pool.query(`SELECT indexdef FROM pg_indexes WHERE indexname = 'users_email_lower_key'`);
      expect(rows).toHaveLength(1);
      expect(rows[0].indexdef).toMatch(/^CREATE UNIQUE INDEX users_email_lower_key ON public\.users .*lower\(/);

      await insertUser('Case.Test@Example.com');
      expect(
        await sqlState(db.pool, `INSERT INTO users (id, email, name, password_hash) VALUES ($1, $2, 'x', 'x')`, [
          randomUUID(),
          'case.test@example.COM',
        ]),
      ).toBe('23505');
      const count = await db.pool.query(
        `SELECT count(*)::int AS n FROM users WHERE lower(email) = 'case.test@example.com'`,
      );
      expect(count.rows[0].n).toBe(1);
    });

    it('references users from sessions, tasks and idempotency_keys with ON DELETE CASCADE', async () => {
      const { rows } = await db.pool.query(
        `SELECT conname, conrelid::regclass::text AS "from", confrelid::regclass::text AS "to", confdeltype
           FROM pg_constraint WHERE contype = 'f' AND connamespace = 'public'::regnamespace ORDER BY conname`,
      );
      expect(rows).toEqual([
        { conname: 'idempotency_keys_user_id_fkey', from: 'idempotency_keys', to: 'users', confdeltype: 'c' },
        { conname: 'sessions_user_id_fkey', from: 'sessions', to: 'users', confdeltype: 'c' },
        { conname: 'tasks_user_id_fkey', from: 'tasks', to: 'users', confdeltype: 'c' },
      ]);
    });

    it('deletes a user together with their sessions, tasks and idempotency keys', async () => {
      const userId = await insertUser();
      const other = await insertUser();
      await insertTask(userId);
      const otherTask = await insertTask(other);
      await db.pool.query(
        `INSERT INTO sessions (id, user_id, refresh_token_hash, expires_at) VALUES ($1, $2, '\\x00', now() + interval '1 day')`,
        [randomUUID(), userId],
      );
      await db.pool.query(
        `INSERT INTO idempotency_keys (user_id, key, request_hash, status) VALUES ($1, 'k', '\\x00', 'in_progress')`,
        [userId],
      );

      await db.pool.query('DELETE FROM users WHERE id = $1', [userId]);

      for (const table of ['sessions', 'tasks', 'idempotency_keys']) {
        const { rows } = await db.pool.query(`SELECT count(*)::int AS n FROM ${table} WHERE user_id = $1`, [userId]);
        expect({ table, n: rows[0].n }).toEqual({ table, n: 0 });
      }
      const kept = await db.pool.query('SELECT id FROM tasks WHERE id = $1', [otherTask]);
      expect(kept.rows).toEqual([{ id: otherTask }]);
    });

    it('declares the CHECK constraints on tasks', async () => {
      const { rows } = await db.pool.query(
        `SELECT conname, pg_get_constraintdef(oid) AS def FROM pg_constraint
          WHERE contype = 'c' AND conrelid = 'tasks'::regclass ORDER BY conname`,
      );
      const defs = Object.fromEntries(rows.map((row: { conname: string; def: string }) => [row.conname, row.def]));
      expect(defs.tasks_title_check).toMatch(/char_length\(\(?title\)?.*\) >= 1.*char_length\(\(?title\)?.*\) <= 200/);
      expect(defs.tasks_description_check).toMatch(/char_length\(description\) <= 2000/);
      expect(defs.tasks_priority_check).toMatch(/low.*medium.*high/);
    });

    it.each([
      ['an empty title', { title: '' }],
      ['a description of 2001 characters', { description: 'd'.repeat(2001) }],
      ['an unknown priority', { priority: 'urgent' }],
      ['completed without completed_at', { completed: true }],
    ])('refuses a task with %s (23514) and stores nothing', async (_what, fields) => {
      const userId = await insertUser();
      let code: string | undefined;
      try {
        await insertTask(userId, fields);
      } catch (error) {
        code = (error as { code?: string }).code;
      }
      expect(code).toBe('23514');
      const { rows } = await db.pool.query('SELECT count(*)::int AS n FROM tasks WHERE user_id = $1', [userId]);
      expect(rows[0].n).toBe(0);
    });

    it('accepts the boundary values', async () => {
      const userId = await insertUser();
      await insertTask(userId, { title: 't'.repeat(200), description: 'd'.repeat(2000), priority: 'high' });
      await insertTask(userId, { title: 'x', priority: 'low' });
      const { rows } = await db.pool.query('SELECT count(*)::int AS n FROM tasks WHERE user_id = $1', [userId]);
      expect(rows[0].n).toBe(2);
    });
  });

  describe('indexes', () => {
    async function indexdef(name: string): Promise<string | undefined> {
      const { rows } = await db.pool.query(`SELECT indexdef FROM pg_indexes WHERE indexname = $1`, [name]);
      return rows[0]?.indexdef;
    }

    it('orders tasks by (user_id, created_at DESC, id DESC)', async () => {
      expect(await indexdef('tasks_user_created_idx')).toBe(
        'CREATE INDEX tasks_user_created_idx ON public.tasks USING btree (user_id, created_at DESC, id DESC)',
      );
    });

    it('filters tasks by (user_id, completed, due_date)', async () => {
      expect(await indexdef('tasks_user_completed_due_idx')).toBe(
        'CREATE INDEX tasks_user_completed_due_idx ON public.tasks USING btree (user_id, completed, due_date)',
      );
    });

    it('searches title and description through a GIN full-text index', async () => {
      expect(await indexdef('tasks_search_idx')).toBe(
        'CREATE INDEX tasks_search_idx ON public.tasks USING gin (user_id, tasks_search_document(user_id, (title)::text, description)) WITH (fastupdate=off)',
      );
    });

    it('indexes sessions by user_id', async () => {
      expect(await indexdef('sessions_user_id_idx')).toBe(
        'CREATE INDEX sessions_user_id_idx ON public.sessions USING btree (user_id)',
      );
    });
  });

  describe('updated_at triggers', () => {
    it('moves users.updated_at on UPDATE, and not on an UPDATE that changes nothing', async () => {
      const id = randomUUID();
      await db.pool.query(
        `INSERT INTO users (id, email, name, password_hash, created_at, updated_at)
         VALUES ($1, $2, 'Old', 'x', '2000-01-01T00:00:00Z', '2000-01-01T00:00:00Z')`,
        [id, `${id}@example.com`],
      );
      const noop = await db.pool.query(`UPDATE users SET name = name WHERE id = $1 RETURNING updated_at`, [id]);
      expect((noop.rows[0].updated_at as Date).toISOString()).toBe('2000-01-01T00:00:00.000Z');

      const { rows } = await db.pool.query(
        `UPDATE users SET name = 'Renamed' WHERE id = $1 RETURNING updated_at, updated_at > now() - interval '1 minute' AS fresh`,
        [id],
      );
      expect(rows[0].fresh).toBe(true);
    });

    it('moves tasks.updated_at on UPDATE', async () => {
      const userId = await insertUser();
      const id = await insertTask(userId, {
        created_at: '2000-01-01T00:00:00Z',
        updated_at: '2000-01-01T00:00:00Z',
      });
      const { rows } = await db.pool.query(
        `UPDATE tasks SET title = 'changed' WHERE id = $1
         RETURNING created_at, updated_at > now() - interval '1 minute' AS fresh`,
        [id],
      );
      expect(rows[0].fresh).toBe(true);
      expect((rows[0].created_at as Date).toISOString()).toBe('2000-01-01T00:00:00.000Z');
    });
  });

  it('matches the entities: TypeORM would generate no migration', async () => {
    // Printed in the failure message, so the missing migration can be written from it.
    expect(await schemaDiff(db.url)).toEqual([]);
  });

  it('has a drift check that notices drift', async () => {
    const drifted = await createTestDatabase();
    try {
      await drifted.pool.query('DROP INDEX sessions_user_id_idx');
      await drifted.pool.query('ALTER TABLE tasks ALTER COLUMN title TYPE varchar(150)');
      const diff = await schemaDiff(drifted.url);
      expect(diff).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/CREATE INDEX "sessions_user_id_idx"/),
          expect.stringMatching(/"title"/),
        ]),
      );
    } finally {
      await drifted.drop();
    }
  });
});

/** The statements `migration:generate` would write for this database. */
async function schemaDiff(url: string): Promise<string[]> {
  const dataSource = new DataSource(buildDataSourceOptions(databaseConfig(url), 'migrations'));
  await dataSource.initialize();
  try {
    const { upQueries } = await dataSource.driver.createSchemaBuilder().log();
    return upQueries.map((query) => query.query);
  } finally {
    await dataSource.destroy();
  }
}
