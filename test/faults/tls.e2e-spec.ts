import { rmSync } from 'node:fs';
import { stripVTControlCharacters } from 'node:util';
import { Client } from 'pg';
import { startTestApp, type TestApp } from '../support/app';
import type { TestDatabase } from '../support/database';
import { alive, call, FAST_APP_ENV, migratedDatabase, registerUser, waitFor } from '../support/faults';
import { PgBouncer } from '../support/pgbouncer';
import { makePki, type Pki, tlsOnlyServer } from '../support/pki';
import { PostgresServer } from '../support/postgres-server';

// Scenario 7: TLS only, verified, with SCRAM channel binding.
describe('TLS with verify-full and channel binding', () => {
  let pki: Pki;
  let pg: PostgresServer;
  let db: TestDatabase;
  let verified: string;

  beforeAll(async () => {
    pki = makePki();
    pg = await PostgresServer.start(tlsOnlyServer(pki));
    verified = `sslmode=verify-full&sslrootcert=${encodeURIComponent(pki.caFile)}`;
    db = await migratedDatabase(pg, 'tasks', verified);
  });
  afterAll(async () => {
    await db?.drop();
    await pg?.close();
    if (pki) rmSync(pki.dir, { recursive: true, force: true });
  });

  /** Starts the service on `url` expecting it to refuse at boot; returns its one explanatory line. */
  async function refusedAtBoot(url: string, env: Record<string, string> = {}) {
    const t = await startTestApp({ db: { ...db, url }, waitForListen: false, env: { ...FAST_APP_ENV, ...env } });
    try {
      await waitFor(() => !alive(t), 'the service to refuse to start', 30_000);
      const line =
        t.logs.find((l) => /Configuration error|channel_binding|no encryption|certificate/.test(l.raw))?.raw ?? '';
      return { code: t.process.exitCode, line: stripVTControlCharacters(line) };
    } finally {
      await t.close();
    }
  }

  it('serves over verify-full TLS with channel_binding=require, and every backend of the app is encrypted', async () => {
    const t: TestApp = await startTestApp({
      db: { ...db, url: pg.url('tasks', `${verified}&channel_binding=require`) },
      env: FAST_APP_ENV,
    });
    try {
      const { token } = await registerUser(t.url, 'tls@example.com');
      const created = await call(t.url, '/api/v1/tasks', { method: 'POST', token, body: { title: 'encrypted' } });
      const ready = await call(t.url, '/health/ready');
      const { rows } = await db.pool.query<{ ssl: boolean; version: string; cipher: string }>(
        `SELECT s.ssl, s.version, s.cipher FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid)
          WHERE a.datname = 'tasks' AND a.application_name = 'tasks-api'`,
      );
      const described = t.logs.find((line) => String(line.msg).startsWith('database: '))?.msg;
      console.log(
        `scenario 7a (TLS): the service logs "${described}"; write ${created.status}, ready ${ready.status}; ` +
          `app backends in pg_stat_ssl: ${JSON.stringify(rows)}`,
      );
      expect(created.status).toBe(201);
      expect(ready.status).toBe(200);
      expect(rows.length).toBeGreaterThanOrEqual(1);
      expect(rows.every((row) => row.ssl && /^TLSv1\.[23]$/.test(row.version))).toBe(true);
      expect(described).toContain('(TLS verify-full)');
    } finally {
      await t.close();
    }
  });

  it('is refused by the server without TLS', async () => {
    const plain = new Client({ connectionString: pg.url('tasks', 'sslmode=disable') });
    const direct = await plain.connect().then(
      () => 'connected',
      (error: Error) => error.message,
    );
    await plain.end().catch(() => undefined);
    const app = await refusedAtBoot(pg.url('tasks', 'sslmode=disable'));
    console.log(`scenario 7b (no TLS): a plain client gets "${direct}"; the service exits ${app.code}: ${app.line}`);
    expect(direct).toMatch(/no encryption/);
    expect(app.code).toBe(1);
    expect(app.line).toMatch(/no encryption/);
  });

  it('refuses a certificate from another CA under verify-full', async () => {
    const app = await refusedAtBoot(
      pg.url('tasks', `sslmode=verify-full&sslrootcert=${encodeURIComponent(pki.otherCaFile)}`),
    );
    console.log(`scenario 7c (wrong CA): the service exits ${app.code}: ${app.line}`);
    expect(app.code).toBe(1);
    expect(app.line).toMatch(/certificate/);
  });

  it('refuses channel_binding=require without TLS, as a configuration error', async () => {
    const app = await refusedAtBoot(pg.url('tasks', 'sslmode=disable&channel_binding=require'));
    console.log(`scenario 7d (channel_binding=require, sslmode=disable): exits ${app.code}: ${app.line}`);
    expect(app.code).toBe(1);
    expect(app.line).toMatch(/Configuration error: DATABASE_URL sets channel_binding=require, which needs TLS/);
  });

  it('refuses a TLS server that offers only SCRAM without channel binding (PgBouncer), unless binding is optional', async () => {
    const bouncer = await PgBouncer.start({
      target: { port: pg.port },
      user: 'postgres',
      secret: await PgBouncer.secretOf(pg.url('postgres', verified), 'postgres'),
      clientTls: { cert: pki.cert, key: pki.key },
      settings: { server_tls_sslmode: 'require' },
    });
    try {
      const through = (params: string) => bouncer.url(pg.url('tasks', `${verified}${params}`));
      const mechanisms = await saslMechanisms(through(''));
      const pooler = { DATABASE_POOLER: 'pgbouncer' };
      const required = await refusedAtBoot(through('&channel_binding=require'), pooler);
      const optional = await startTestApp({
        db: { ...db, url: through('&channel_binding=prefer') },
        env: { ...FAST_APP_ENV, ...pooler },
      });
      const ready = await call(optional.url, '/health/ready');
      await optional.close();
      console.log(
        `scenario 7e (PgBouncer over TLS offers ${mechanisms}): channel_binding=require exits ${required.code}: ` +
          `${required.line}; channel_binding=prefer connects (ready ${ready.status})`,
      );
      expect(mechanisms).not.toContain('SCRAM-SHA-256-PLUS');
      expect(required.code).toBe(1);
      expect(required.line).toMatch(/channel_binding=require, but the server offers only SCRAM-SHA-256/);
      expect(ready.status).toBe(200);
    } finally {
      await bouncer.close();
    }
  });
});

/** The SASL mechanisms a server offers, seen from a node-postgres client. */
async function saslMechanisms(url: string): Promise<string> {
  const client = new Client({ connectionString: url });
  const offered: string[] = [];
  const connection = (client as unknown as { connection: NodeJS.EventEmitter }).connection;
  connection.on('authenticationSASL', (message: { mechanisms: string[] }) => offered.push(...message.mechanisms));
  await client.connect();
  await client.end();
  return offered.join(', ');
}
