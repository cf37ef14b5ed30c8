import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client, Pool } from 'pg';
import { loadConfig } from '../../src/config/configuration';
import { runMigrations } from '../../src/database/run-migrations';
import { startTestApp, type TestApp } from '../support/app';
import type { TestDatabase } from '../support/database';
import { alive, call, FAST_APP_ENV, isRetryable503, registerUser, waitFor, type Outcome } from '../support/faults';
import { PgBouncer } from '../support/pgbouncer';
import { PostgresServer } from '../support/postgres-server';

const run = promisify(execFile);
const ROOT = join(__dirname, '..', '..');
const STATEMENT_TIMEOUT_MS = 1_000;

// Scenario 6: the service behind PgBouncer in transaction mode, configured like Neon's pooler.
describe('through PgBouncer in transaction mode', () => {
  let pg: PostgresServer;
  let bouncer: PgBouncer;
  let direct: string;
  let pooled: string;
  let db: TestDatabase;
  let t: TestApp;

  beforeAll(async () => {
    pg = await PostgresServer.start();
    bouncer = await PgBouncer.start({
      target: { port: pg.port },
      user: 'postgres',
      secret: await PgBouncer.secretOf(pg.url(), 'postgres'),
      poolMode: 'transaction',
      defaultPoolSize: 3,
    });
    direct = await pg.createDatabase('tasks');
    pooled = bouncer.url(direct);
    // As a deploy step would: migrations over the direct URL, which also pins the role's timeouts.
    await runMigrations(
      loadConfig({
        NODE_ENV: 'test',
        DATABASE_URL: pooled,
        DATABASE_URL_UNPOOLED: direct,
        DB_STATEMENT_TIMEOUT_MS: String(STATEMENT_TIMEOUT_MS),
      }).database,
    );
    db = await directDatabase(direct);
    t = await startTestApp({
      db: { ...db, url: pooled },
      env: {
        ...FAST_APP_ENV,
        DATABASE_URL_UNPOOLED: direct,
        DATABASE_POOLER: 'pgbouncer',
        DB_STATEMENT_TIMEOUT_MS: String(STATEMENT_TIMEOUT_MS),
        DB_POOL_MAX: '4',
      },
    });
  });
  afterAll(async () => {
    await t?.close();
    await db?.drop();
    await bouncer?.close();
    await pg?.close();
  });

  it('serves the API through the pooler without sending startup parameters', async () => {
    const described = t.logs.find((line) => String(line.msg).startsWith('database: '))?.msg;
    const { token } = await registerUser(t.url, 'pooled@example.com');
    const created = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        call(t.url, '/api/v1/tasks', { method: 'POST', token, body: { title: `pooled ${i}` } }),
      ),
    );
    const listed = await call(t.url, '/api/v1/tasks?limit=100', { token });
    // Debian's PgBouncer (1.18) does not carry prepared statements between server connections: the first
    // reuse of a name fails before executing, the service says so once and runs statements unnamed.
    const again = await Promise.all(
      Array.from({ length: 10 }, () => call(t.url, '/api/v1/tasks?limit=100', { token })),
    );
    const unprepared = t.logs.filter((line) => String(line.msg).includes('does not keep prepared statements'));
    const role = await db.pool.query<{ setconfig: string[] }>(
      `SELECT setconfig FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase
        WHERE d.datname = 'tasks' AND s.setrole = 'postgres'::regrole`,
    );
    // What PgBouncer does with a client that sends a timeout as a startup parameter.
    const refused = await connectError({ connectionString: pooled, statement_timeout: 5_000 });
    console.log(
      `scenario 6a (PgBouncer, transaction mode, default_pool_size 3): the service logs "${described}"; ` +
        `20 concurrent creates ${created.filter((o) => o.status === 201).length}x201, list ${listed.status} with ` +
        `${(listed.body as { items: unknown[] }).items.length} items; prepared statements: "${unprepared[0]?.msg}"; ` +
        `role settings pinned by the migrations: ` +
        `${JSON.stringify(role.rows[0]?.setconfig)}; a client sending statement_timeout at startup gets "${refused}"`,
    );
    expect(described).toContain('via pooler');
    expect(created.every((o) => o.status === 201)).toBe(true);
    expect((listed.body as { items: unknown[] }).items).toHaveLength(20);
    expect(again.map((o) => [o.status, (o.body as { items: unknown[] }).items.length])).toEqual(
      Array.from({ length: 10 }, () => [200, 20]),
    );
    expect(unprepared).toHaveLength(1);
    expect(role.rows[0].setconfig).toEqual(
      expect.arrayContaining([
        `statement_timeout=${STATEMENT_TIMEOUT_MS}`,
        'idle_in_transaction_session_timeout=10000',
      ]),
    );
    expect(refused).toMatch(/unsupported startup parameter/);
  });

  it('has a runaway query cancelled server-side by the role timeout, and reuses the connection', async () => {
    const { token } = await registerUser(t.url, 'runaway-pooled@example.com');
    const mark = pg.mark();
    const blocker = new Client({ connectionString: direct, statement_timeout: 0 });
    await blocker.connect();
    let outcome: Outcome;
    let waitingOnLock: number;
    try {
      await blocker.query('BEGIN');
      await blocker.query('LOCK TABLE tasks IN ACCESS EXCLUSIVE MODE');
      outcome = await call(t.url, '/api/v1/tasks', { token });
      // Still holding the lock: a statement only abandoned by the client would still be waiting for it.
      const { rows } = await blocker.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = 'tasks' AND wait_event_type = 'Lock'`,
      );
      waitingOnLock = rows[0].n;
      await blocker.query('COMMIT');
    } finally {
      await blocker.end();
    }
    const cancelled = pg
      .logsSince(mark)
      .filter((line) => line.includes('canceling statement due to statement timeout'));
    const next = await Promise.all(Array.from({ length: 8 }, () => call(t.url, '/api/v1/tasks', { token })));
    console.log(
      `scenario 6b (runaway query through PgBouncer, role statement_timeout ${STATEMENT_TIMEOUT_MS} ms): ` +
        `${outcome.status} after ${outcome.ms} ms; statements still waiting on the lock ${waitingOnLock}; ` +
        `server log: "${cancelled[0]?.replace(/^.*?(ERROR)/, '$1')}"; next 8 requests all ` +
        `${next.every((o) => o.status === 200) ? 200 : JSON.stringify(next.map((o) => o.status))}`,
    );
    expect(isRetryable503(outcome)).toBe(true);
    expect(outcome.ms).toBeLessThan(STATEMENT_TIMEOUT_MS + 1_800);
    expect(waitingOnLock).toBe(0);
    expect(cancelled.length).toBeGreaterThanOrEqual(1);
    expect(next.every((o) => o.status === 200)).toBe(true);
    expect(alive(t)).toBe(true);
  });

  it('refuses at boot a pooled URL carrying a startup parameter the pooler would reject', async () => {
    const cases = {
      'DATABASE_POOLER=pgbouncer': {
        DATABASE_URL: `${pooled}?options=${encodeURIComponent('-c statement_timeout=5000')}`,
        DATABASE_POOLER: 'pgbouncer',
      },
      'a Neon -pooler host': {
        DATABASE_URL:
          'postgresql://app:secret@ep-quiet-sun-123456-pooler.eu-central-1.aws.neon.tech/tasks?statement_timeout=5000&sslmode=require',
        DATABASE_POOLER: 'auto',
      },
    };
    for (const [name, env] of Object.entries(cases)) {
      const app = await startTestApp({ db, waitForListen: false, env: { ...FAST_APP_ENV, ...env } });
      try {
        await waitFor(() => !alive(app), 'the service to refuse its configuration');
        const message = app.logs.find((line) => line.raw.startsWith('Configuration error'))?.raw;
        console.log(`scenario 6c (${name}): exit ${app.process.exitCode}: ${message}`);
        expect(app.process.exitCode).toBe(1);
        expect(message).toMatch(/DATABASE_URL points at a PgBouncer pooler, which rejects the startup parameter/);
        expect(message).not.toContain('secret');
      } finally {
        await app.close();
      }
    }
  });

  it('has the migration runner refuse a pooled URL', async () => {
    const config = loadConfig({ NODE_ENV: 'test', DATABASE_URL: pooled, DATABASE_POOLER: 'pgbouncer' }).database;
    const inProcess = await runMigrations(config).then(
      () => 'ran',
      (error: Error) => error.message,
    );
    const cli = await run(
      process.execPath,
      ['node_modules/typeorm/cli.js', 'migration:run', '-d', 'dist/database/data-source.js'],
      {
        cwd: ROOT,
        env: { PATH: process.env.PATH, NODE_ENV: 'production', DATABASE_URL: pooled, DATABASE_POOLER: 'pgbouncer' },
      },
    ).then(
      () => ({ code: 0, output: '' }),
      (error: { code: number; stdout: string; stderr: string }) => ({
        code: error.code,
        output: `${error.stdout}${error.stderr}`,
      }),
    );
    const cliLine = cli.output.split('\n').find((line) => line.includes('pooler'));
    console.log(
      `scenario 6d (migrations on a pooled URL): runMigrations: "${inProcess}"; CLI exit ${cli.code}: "${cliLine}"`,
    );
    expect(inProcess).toMatch(/points at a pooler .*set DATABASE_URL_UNPOOLED/);
    expect(cli.code).not.toBe(0);
    expect(cliLine).toMatch(/points at a pooler/);
  });
});

async function connectError(config: ConstructorParameters<typeof Client>[0]): Promise<string> {
  const client = new Client(config);
  try {
    await client.connect();
    await client.end();
    return 'connected';
  } catch (error) {
    return (error as Error).message;
  }
}

async function directDatabase(url: string): Promise<TestDatabase> {
  const pool = new Pool({ connectionString: url, max: 2 });
  pool.on('error', () => undefined);
  return { name: 'tasks', url, pool, drop: () => pool.end() };
}
