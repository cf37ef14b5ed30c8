import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify, stripVTControlCharacters } from 'node:util';
import { loadConfig } from '../../src/config/configuration';
import { runMigrations } from '../../src/database/run-migrations';
import { startTestApp, type TestApp } from '../support/app';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { alive, call, FAST_APP_ENV, migratedDatabase, waitFor } from '../support/faults';
import { makePki, type Pki, tlsOnlyServer } from '../support/pki';
import { PostgresServer } from '../support/postgres-server';

const ROOT = join(__dirname, '..', '..');
const run = promisify(execFile);
const PRODUCTION = { ...FAST_APP_ENV, NODE_ENV: 'production' };

// Scenario 8: in production TLS to the database is verified unless the URL or DATABASE_TLS_INSECURE says
// otherwise. The server's certificate comes from a CA no system trusts.
describe('TLS to the database in production', () => {
  let pki: Pki;
  let pg: PostgresServer;
  let db: TestDatabase;
  const withCa = () => `sslrootcert=${encodeURIComponent(pki.caFile)}`;

  beforeAll(async () => {
    pki = makePki();
    pg = await PostgresServer.start(tlsOnlyServer(pki));
    db = await migratedDatabase(pg, 'tasks', `sslmode=verify-full&${withCa()}`);
  });
  afterAll(async () => {
    await db?.drop();
    await pg?.close();
    if (pki) rmSync(pki.dir, { recursive: true, force: true });
  });

  /** Starts the service in production on `url` expecting it to refuse at boot; returns what it printed. */
  async function refusedAtBoot(url: string) {
    const t = await startTestApp({ db: { ...db, url }, waitForListen: false, env: PRODUCTION });
    try {
      await waitFor(() => !alive(t), 'the service to refuse to start', 30_000);
      return { code: t.process.exitCode, lines: t.logs.map((line) => stripVTControlCharacters(line.raw)) };
    } finally {
      await t.close();
    }
  }

  /** Starts the service in production; returns its `database:` line, its warnings and readiness. */
  async function served(database: TestDatabase, url: string, env: Record<string, string> = {}) {
    const t: TestApp = await startTestApp({ db: { ...database, url }, env: { ...PRODUCTION, ...env } });
    try {
      const ready = await call(t.url, '/health/ready');
      return {
        described: t.logs.find((line) => String(line.msg).startsWith('database: '))?.msg,
        warnings: t.logs.filter((line) => line.level === 40).map((line) => line.msg),
        ready: ready.status,
        output: t.logs.map((line) => line.raw).join('\n'),
      };
    } finally {
      await t.close();
    }
  }

  it.each([
    ['without sslmode', ''],
    ['with sslmode=require, as Neon gives it', 'sslmode=require'],
    ['with sslmode=prefer', 'sslmode=prefer'],
  ])('refuses the unknown CA %s, in one line naming the certificate problem', async (_what, params) => {
    const app = await refusedAtBoot(pg.url('tasks', params));
    const line = app.lines.find((entry) => entry.startsWith('Start-up failed'));
    console.log(`scenario 8a (production, ${params || 'no sslmode'}, no CA): exits ${app.code}: ${line}`);
    expect(app.code).toBe(1);
    // Nest's own start-up lines are JSON; what the operator reads is the one plain line.
    const plain = app.lines.filter((line) => !line.startsWith('{'));
    expect(plain).toEqual([expect.stringMatching(/^Start-up failed: .*certificate.*sslrootcert=<file>/)]);
    expect(app.lines.join('\n')).not.toContain(pg.password);
  });

  it('accepts the server with its CA, from sslrootcert or NODE_EXTRA_CA_CERTS, and logs verify-full', async () => {
    const rootCert = await served(db, pg.url('tasks', `sslmode=require&${withCa()}`));
    const extraCa = await served(db, pg.url('tasks'), { NODE_EXTRA_CA_CERTS: pki.caFile });
    console.log(
      `scenario 8b (production, with the CA): sslrootcert logs "${rootCert.described}" (ready ${rootCert.ready}); ` +
        `NODE_EXTRA_CA_CERTS logs "${extraCa.described}" (ready ${extraCa.ready})`,
    );
    for (const outcome of [rootCert, extraCa]) {
      expect(outcome.ready).toBe(200);
      expect(outcome.described).toBe(`database: 127.0.0.1:${pg.port}/tasks (TLS verify-full)`);
      expect(outcome.warnings).toEqual([]);
      expect(outcome.output).not.toContain(pg.password);
    }
  });

  it('with DATABASE_TLS_INSECURE=true encrypts without checking the certificate, and warns', async () => {
    const outcome = await served(db, pg.url('tasks', 'sslmode=require'), { DATABASE_TLS_INSECURE: 'true' });
    console.log(
      `scenario 8c (DATABASE_TLS_INSECURE): "${outcome.described}"; warns ${JSON.stringify(outcome.warnings)}`,
    );
    expect(outcome.ready).toBe(200);
    expect(outcome.described).toBe(`database: 127.0.0.1:${pg.port}/tasks (TLS without certificate check)`);
    expect(outcome.warnings).toEqual([
      'DATABASE_TLS_INSECURE=true: the certificate of the DATABASE_URL server is not checked',
    ]);
  });

  it('honours an explicit sslmode=disable (an in-cluster database), and warns', async () => {
    const plain = await createTestDatabase();
    try {
      const url = `${plain.url}?sslmode=disable`;
      const outcome = await served(plain, url);
      const { host, pathname } = new URL(plain.url);
      console.log(`scenario 8d (sslmode=disable): "${outcome.described}"; warns ${JSON.stringify(outcome.warnings)}`);
      expect(outcome.ready).toBe(200);
      expect(outcome.described).toBe(`database: ${host}${pathname} (no TLS)`);
      expect(outcome.warnings).toEqual(['DATABASE_URL sets sslmode=disable: the database connection is not encrypted']);
    } finally {
      await plain.drop();
    }
  });

  it('applies the same rules to migrations, in-process and through the CLI', async () => {
    const migrate = (url: string) =>
      runMigrations(loadConfig({ NODE_ENV: 'production', DATABASE_URL_UNPOOLED: url }, 'migrations').database).then(
        (applied) => `applied ${applied.length}`,
        (error: Error) => error.message,
      );
    const withoutCa = await migrate(pg.url('tasks', 'sslmode=require'));
    const withCa_ = await migrate(pg.url('tasks', withCa()));
    const plain = await createTestDatabase();
    const cli = await run(
      process.execPath,
      ['node_modules/typeorm/cli.js', 'migration:run', '-d', 'dist/database/data-source.js'],
      {
        cwd: ROOT,
        env: { PATH: process.env.PATH, NODE_ENV: 'production', DATABASE_URL: `${plain.url}?sslmode=disable` },
      },
    ).finally(() => plain.drop());
    console.log(`scenario 8e (migrations): without the CA "${withoutCa}"; with it "${withCa_}"; CLI: ${cli.stderr}`);
    expect(withoutCa).toMatch(/certificate/);
    expect(withCa_).toBe('applied 0');
    expect(cli.stderr).toContain('DATABASE_URL sets sslmode=disable: the database connection is not encrypted');
    expect(cli.stdout).toContain('No migrations are pending');
  });
});
