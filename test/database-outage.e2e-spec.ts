import { readdirSync, readFileSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'pg';
import { loadConfig } from '../src/config/configuration';
import { runMigrations } from '../src/database/run-migrations';
import { startTestApp, type TestApp } from './support/app';
import { startDedicatedPostgres, type DedicatedPostgres } from './support/dedicated-postgres';
import { registerUser, type Account } from './support/auth';
import { expectProblem, waitFor } from './support/http';

const CONNECT_TIMEOUT_MS = 2_000;

async function timed<T>(work: () => Promise<T>): Promise<{ result: T; ms: number }> {
  const started = Date.now();
  const result = await work();
  return { result, ms: Date.now() - started };
}

// jest.config.js sets testTimeout on the e2e project, where Jest ignores it (it reads only the top-level
// option), so hooks and tests would get 5 s: too little for starting services under a parallel run.
jest.setTimeout(60_000);

/** The postmaster and its backends: signalled together they freeze the server as a network partition would. */
function serverProcesses(dataDir: string): number[] {
  const postmaster = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  const children = readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .filter((pid) => {
      try {
        // Field 4 of /proc/<pid>/stat, after the parenthesised command name, is the parent pid.
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === postmaster;
      } catch {
        return false; // exited meanwhile
      }
    })
    .map(Number);
  return [postmaster, ...children];
}

// A PostgreSQL of this file's own, so that stopping it cannot disturb the other test files.
describe('a database outage', () => {
  let parent: string;
  let dataDir: string;
  let server: DedicatedPostgres | undefined;
  let port: number;
  let pool: Pool;
  let t: TestApp;
  let alice: Account;

  beforeAll(async () => {
    parent = await mkdtemp(join(tmpdir(), 'tasks-api-outage-'));
    await chmod(parent, 0o755); // as root, the server runs as `postgres` and must reach its folder
    dataDir = join(parent, 'pg');
    // Stopping keeps the data, as a suspended Neon compute does.
    server = await startDedicatedPostgres(dataDir);
    port = server.port;
    await runMigrations(loadConfig({ NODE_ENV: 'test', DATABASE_URL: server.url }).database);

    pool = new Pool({ connectionString: server.url, max: 2, idleTimeoutMillis: 100 });
    pool.on('error', () => undefined); // idle clients die with the server
    t = await startTestApp({
      db: { name: 'tasks', url: server.url, pool, drop: async () => undefined },
      env: { HEALTH_DB_TIMEOUT_MS: '1000', DB_CONNECT_TIMEOUT_MS: String(CONNECT_TIMEOUT_MS) },
    });
    alice = await registerUser(t.api, { email: 'alice.outage@example.com' });
  });

  afterAll(async () => {
    await t?.close();
    await pool?.end();
    await server?.stop();
    if (parent) await rm(parent, { recursive: true, force: true });
  });

  it('starts ready', async () => {
    const res = await t.api.get('/health/ready');
    expect(res.status).toBe(200);
    expect(res.body.details.database.status).toBe('up');
    const users = await pool.query('SELECT email FROM users');
    expect(users.rows).toEqual([{ email: 'alice.outage@example.com' }]);
  });

  describe('while the database is frozen (it accepts no packets, as in a network partition)', () => {
    let frozen: number[] = [];

    beforeAll(async () => {
      // Pooled connections exist, so requests are sent into sockets that will never answer.
      for (let i = 0; i < 3; i++) {
        expect((await t.api.get('/api/v1/tasks').auth(alice.accessToken, { type: 'bearer' })).status).toBe(200);
      }
      frozen = serverProcesses(dataDir);
      for (const pid of frozen) process.kill(pid, 'SIGSTOP');
    });
    afterAll(() => {
      for (const pid of frozen) process.kill(pid, 'SIGCONT');
    });

    it('turns readiness 503 within its timeout', async () => {
      const { result: res, ms } = await timed(() => t.api.get('/health/ready'));
      expect(ms).toBeLessThan(3_000);
      expectProblem(res, 503, '/health/ready');
      expect(res.body.details.database).toEqual(expect.objectContaining({ status: 'down' }));
    });

    it('keeps liveness 200', async () => {
      expect((await t.api.get('/health/live')).status).toBe(200);
    });

    it('answers API calls 503 with Retry-After within the connect timeout, never hanging', async () => {
      const { result: responses, ms } = await timed(() =>
        Promise.all(
          Array.from({ length: 12 }, () => t.api.get('/api/v1/users/me').auth(alice.accessToken, { type: 'bearer' })),
        ),
      );
      expect(ms).toBeLessThan(CONNECT_TIMEOUT_MS + 3_000);
      for (const res of responses) {
        expectProblem(res, 503, '/api/v1/users/me');
        expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
      }
    });
  });

  describe('when the partition heals', () => {
    it('turns ready again and serves', async () => {
      await waitFor(async () => (await t.api.get('/health/ready')).status === 200, 30_000, 'readiness to recover');
      const res = await t.api.get('/api/v1/users/me').auth(alice.accessToken, { type: 'bearer' });
      expect(res.status).toBe(200);
      expect(res.body.email).toBe(alice.user.email);
    });
  });

  describe('while the database is down', () => {
    beforeAll(async () => {
      await server!.stop();
      server = undefined;
    });

    it('turns readiness 503 problem+json with Terminus details, promptly', async () => {
      const { result: res, ms } = await timed(() => t.api.get('/health/ready'));
      expect(ms).toBeLessThan(3_000);
      expectProblem(res, 503, '/health/ready');
      expect(res.body.details.database).toEqual(expect.objectContaining({ status: 'down' }));
      expect(res.body.error.database).toEqual(expect.objectContaining({ status: 'down' }));
      expect(res.body.details.migrations).toEqual(expect.objectContaining({ status: 'down' }));
      expect(res.body.details.pool).toEqual(expect.objectContaining({ status: 'up', max: 10 }));
      expect(res.body.info).toEqual(expect.any(Object));
      expect(res.body.detail).toMatch(/database/);
    });

    it('keeps liveness 200', async () => {
      const res = await t.api.get('/health/live');
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ status: 'ok', info: {}, error: {}, details: {} });
    });

    it('answers an authenticated read 503 with Retry-After within the connect timeout', async () => {
      const { result: res, ms } = await timed(() =>
        t.api.get('/api/v1/tasks').auth(alice.accessToken, { type: 'bearer' }),
      );
      expect(ms).toBeLessThan(CONNECT_TIMEOUT_MS + 2_000);
      expectProblem(res, 503, '/api/v1/tasks');
      expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
    });

    it('answers a write 503 with Retry-After, and so do concurrent requests', async () => {
      const { result: responses, ms } = await timed(() =>
        Promise.all([
          t.api.post('/api/v1/tasks').auth(alice.accessToken, { type: 'bearer' }).send({ title: 'during outage' }),
          ...Array.from({ length: 5 }, () => t.api.get('/api/v1/users/me').auth(alice.accessToken, { type: 'bearer' })),
          t.api.post('/api/v1/auth/login').send({ email: alice.user.email, password: 'correct horse battery' }),
        ]),
      );
      expect(ms).toBeLessThan(CONNECT_TIMEOUT_MS + 3_000);
      for (const res of responses) {
        expectProblem(res, 503);
        expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
      }
    });

    it('answers an invalid task request 503 too: its session cannot be checked, and no 400 goes out unchecked', async () => {
      const bearer = { type: 'bearer' } as const;
      const { result: responses, ms } = await timed(() =>
        Promise.all([
          t.api.get('/api/v1/tasks?limit=0').auth(alice.accessToken, bearer),
          t.api.get('/api/v1/tasks/not-a-uuid').auth(alice.accessToken, bearer),
          t.api.patch('/api/v1/tasks/0193d6c2-7d4e-7c1a-9f1e-3c2b1a0f9e8d').auth(alice.accessToken, bearer).send({}),
        ]),
      );
      expect(ms).toBeLessThan(CONNECT_TIMEOUT_MS + 3_000);
      for (const res of responses) {
        expectProblem(res, 503);
        expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
      }
    });

    it('never answers 500 and the process stays up', () => {
      const statuses = t.logs.filter((line) => typeof line.status === 'number').map((line) => line.status);
      expect(statuses).not.toContain(500);
      expect(t.process.exitCode).toBeNull();
      expect(t.process.signalCode).toBeNull();
    });
  });

  describe('after the database comes back on the same port', () => {
    beforeAll(async () => {
      server = await startDedicatedPostgres(dataDir, port);
    });

    it('turns ready again by itself', async () => {
      const res = await waitFor(
        async () => {
          const answer = await t.api.get('/health/ready');
          return answer.status === 200 ? answer : undefined;
        },
        30_000,
        'readiness to recover',
      );
      expect(res.body.details.database.status).toBe('up');
      expect(res.body.details.migrations).toEqual({ status: 'up', pending: 0 });
    });

    it('serves API calls again, with the data written before the outage', async () => {
      const me = await t.api.get('/api/v1/users/me').auth(alice.accessToken, { type: 'bearer' });
      expect(me.status).toBe(200);
      expect(me.body.email).toBe(alice.user.email);

      const created = await t.api
        .post('/api/v1/tasks')
        .auth(alice.accessToken, { type: 'bearer' })
        .send({ title: 'after outage' });
      expect(created.status).toBe(201);
      const rows = await pool.query('SELECT title FROM tasks WHERE user_id = $1', [alice.user.id]);
      expect(rows.rows).toEqual([{ title: 'after outage' }]);
    });

    it('never exited', () => {
      expect(t.process.exitCode).toBeNull();
      expect(t.process.signalCode).toBeNull();
      expect(t.logs.filter((line) => typeof line.status === 'number' && line.status === 500)).toEqual([]);
    });
  });
});
