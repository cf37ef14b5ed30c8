import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { startTestApp } from '../support/app';
import { API } from '../support/auth';
import { adminUrl, createTestDatabase, type TestDatabase } from '../support/database';
import { driveMainFlows } from '../support/main-flows';
import { migrationCli } from '../support/migration-cli';

// Least privilege (issue #19): the migrations run as the schema owner with DATABASE_APP_ROLE naming the
// role the app connects as; that role reads and writes rows and cannot change the schema.

jest.setTimeout(120_000);

/** The SQL docs/migrations.md gives for creating the app role on Neon, for a role and password of the test's. */
function documentedRoleSql(role: string, password: string): string {
  const doc = readFileSync(join(__dirname, '..', '..', 'docs', 'migrations.md'), 'utf8');
  const block = [...doc.matchAll(/```sql\n([\s\S]*?)```/g)].find(([, sql]) => sql.includes('CREATE ROLE tasks_app'));
  if (!block) throw new Error('docs/migrations.md has no SQL block creating the role tasks_app');
  return block[1].replaceAll('tasks_app', role).replace("'REPLACE_ME'", `'${password}'`);
}

async function admin(sql: string, url = adminUrl()): Promise<void> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

async function sqlState(client: Client, sql: string): Promise<string | undefined> {
  try {
    await client.query(sql);
    return undefined;
  } catch (error) {
    return (error as { code?: string }).code;
  }
}

describe('the app role (DATABASE_APP_ROLE)', () => {
  const role = `tasks_app_${randomBytes(4).toString('hex')}`;
  const password = randomBytes(12).toString('hex');
  let db: TestDatabase;
  let appUrl: string;
  let migrated: { code: number | null; output: string };

  beforeAll(async () => {
    db = await createTestDatabase({ migrated: false });
    // As the owner, on the application's database, as docs/migrations.md says to on Neon.
    await admin(documentedRoleSql(role, password), db.url);
    const url = new URL(db.url);
    [url.username, url.password] = [role, password];
    appUrl = url.toString();
    // As the Job runs it: the owner's direct URL, and the app role by name only.
    migrated = await migrationCli('migration:run', { DATABASE_URL_UNPOOLED: db.url, DATABASE_APP_ROLE: role });
  });

  afterAll(async () => {
    await db.drop();
    await admin(`DROP ROLE IF EXISTS ${role}`);
  });

  it('is granted row access and its timeouts by the migration run', async () => {
    expect(migrated.code).toBe(0);
    const { rows } = await db.pool.query(
      `SELECT c.relname AS table, array_to_string(array_agg(p.privilege_type ORDER BY p.privilege_type), ',') AS granted
         FROM pg_class c CROSS JOIN LATERAL aclexplode(c.relacl) AS p
        WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r' AND p.grantee = $1::regrole
        GROUP BY c.relname ORDER BY c.relname`,
      [role],
    );
    const tables = await db.pool.query<{ name: string }>(
      `SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename`,
    );
    expect(tables.rows.map(({ name }) => name)).toEqual(expect.arrayContaining(['migrations', 'tasks', 'users']));
    expect(rows).toEqual(
      tables.rows.map(({ name }) => ({
        table: name,
        granted: name === 'migrations' ? 'SELECT' : 'DELETE,INSERT,SELECT,UPDATE',
      })),
    );
    const settings = await db.pool.query(
      `SELECT setconfig FROM pg_db_role_setting WHERE setrole = $1::regrole AND setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database())`,
      [role],
    );
    expect(settings.rows[0].setconfig).toEqual([
      'statement_timeout=10000',
      'idle_in_transaction_session_timeout=10000',
    ]);
  });

  it('cannot change the schema: DROP, ALTER, TRUNCATE and CREATE are refused', async () => {
    const client = new Client({ connectionString: appUrl });
    await client.connect();
    try {
      const refused = {
        'DROP TABLE tasks': await sqlState(client, 'DROP TABLE tasks'),
        'ALTER TABLE': await sqlState(client, 'ALTER TABLE tasks ADD COLUMN note text'),
        'TRUNCATE tasks': await sqlState(client, 'TRUNCATE tasks'),
        'CREATE TABLE': await sqlState(client, 'CREATE TABLE scratch (id bigint)'),
        'CREATE INDEX': await sqlState(client, 'CREATE INDEX tasks_title_idx ON tasks (title)'),
        'DROP FUNCTION': await sqlState(client, 'DROP FUNCTION set_updated_at()'),
        'DELETE FROM migrations': await sqlState(client, 'DELETE FROM migrations'),
      };
      expect(refused).toEqual(Object.fromEntries(Object.keys(refused).map((statement) => [statement, '42501'])));
    } finally {
      await client.end();
    }
    const left = await db.pool.query(`SELECT to_regclass('tasks') AS tasks, to_regclass('scratch') AS scratch`);
    expect(left.rows).toEqual([{ tasks: 'tasks', scratch: null }]);
  });

  it('serves register, login, create, list, update and delete as that role', async () => {
    // Straight to the server, also under npm run test:pgbouncer (whose PgBouncer knows only the owner).
    const t = await startTestApp({
      db,
      env: { DATABASE_URL: appUrl, DATABASE_URL_UNPOOLED: '', DATABASE_POOLER: 'auto' },
    });
    try {
      const ready = await t.api.get('/health/ready');
      expect({ status: ready.status, migrations: ready.body.details?.migrations }).toEqual({
        status: 200,
        migrations: { status: 'up', pending: 0 },
      });
      const user = await driveMainFlows(t.api, 'app-role');
      const stored = await db.pool.query('SELECT count(*)::int AS n FROM users WHERE email = $1', [user.email]);
      expect(stored.rows[0].n).toBe(1);
      expect((await t.api.get(`${API}/tasks`)).status).toBe(401);
    } finally {
      await t.close();
    }
  });

  it('covers a table a later migration adds, and a run refuses an app role that does not exist', async () => {
    await db.pool.query('CREATE TABLE later_feature (id bigint PRIMARY KEY)');
    const client = new Client({ connectionString: appUrl });
    await client.connect();
    try {
      expect(await sqlState(client, 'INSERT INTO later_feature VALUES (1)')).toBeUndefined();
      expect(await sqlState(client, 'TRUNCATE later_feature')).toBe('42501');
    } finally {
      await client.end();
    }

    const missing = await migrationCli('migration:run', {
      DATABASE_URL_UNPOOLED: db.url,
      DATABASE_APP_ROLE: 'no_such_role',
    });
    expect(missing.code).toBe(1);
    expect(missing.output).toMatch(/^MigrationError: DATABASE_APP_ROLE no_such_role does not exist: create it first/m);
  });
});
