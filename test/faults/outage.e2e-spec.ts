import { startTestApp, type TestApp } from '../support/app';
import type { TestDatabase } from '../support/database';
import {
  alive,
  call,
  FAST_APP_ENV,
  isRetryable503,
  listeningUrl,
  Load,
  migratedDatabase,
  registerUser,
  stats,
  tally,
  waitFor,
  type Outcome,
} from '../support/faults';
import { PostgresServer } from '../support/postgres-server';
import { TcpProxy } from '../support/tcp-proxy';

const CONNECT_TIMEOUT_MS = 2_000;
const PING_TIMEOUT_MS = 1_000;

// Scenario 1: the database goes away under steady load and comes back.
describe('database down, then back, under steady load', () => {
  let pg: PostgresServer;
  let db: TestDatabase;
  let t: TestApp;

  beforeAll(async () => {
    pg = await PostgresServer.start();
    db = await migratedDatabase(pg);
    t = await startTestApp({
      db,
      env: {
        ...FAST_APP_ENV,
        DB_CONNECT_TIMEOUT_MS: String(CONNECT_TIMEOUT_MS),
        HEALTH_DB_TIMEOUT_MS: String(PING_TIMEOUT_MS),
        DB_POOL_MAX: '4',
      },
    });
  });
  afterAll(async () => {
    await t?.close();
    await db?.drop();
    await pg?.close();
  });

  it('answers 503 + Retry-After within the connect timeout, keeps liveness, and recovers by itself', async () => {
    const { token } = await registerUser(t.url, 'outage@example.com');
    const acked: string[] = [];
    const writer = async (i: number): Promise<Outcome> => {
      const outcome = await call(t.url, '/api/v1/tasks', {
        method: 'POST',
        token,
        body: { title: `steady ${i}` },
        label: 'api',
      });
      if (outcome.status === 201) acked.push((outcome.body as { id: string }).id);
      return outcome;
    };
    const reader = () => call(t.url, '/api/v1/tasks?limit=5', { token, label: 'api' });
    const live = () => call(t.url, '/health/live', { label: 'live' });
    const ready = () => call(t.url, '/health/ready', { label: 'ready' });
    const load = new Load([writer, writer, reader, live, ready], 90_000, 50);
    const since = (label: string, from: number, to = Infinity) =>
      load.outcomes.filter((o) => o.label === label && o.startedAt >= from && o.startedAt < to);

    await waitFor(() => since('api', 0).filter((o) => o.status < 300).length >= 20, 'traffic before the outage');

    const downAt = Date.now();
    await pg.stop();
    const first = (label: string, from: number, ok: (o: Outcome) => boolean) =>
      load.outcomes.find((o) => o.label === label && o.startedAt >= from && ok(o));
    await waitFor(() => first('ready', downAt, (o) => o.status === 503) !== undefined, 'readiness 503');
    const readyDownMs = first('ready', downAt, (o) => o.status === 503)!.endedAt - downAt;
    await waitFor(
      () => Date.now() - downAt > 3_000 && since('api', downAt + 200).length >= 20,
      'traffic during the outage',
    );

    const upAt = Date.now();
    await pg.startAgain();
    const acceptingAt = Date.now(); // the server answers queries from here on
    await waitFor(() => first('ready', acceptingAt, (o) => o.status === 200) !== undefined, 'readiness 200', 30_000);
    await waitFor(() => first('api', acceptingAt, (o) => o.status < 300) !== undefined, 'an API 2xx', 30_000);
    const readyUpMs = first('ready', acceptingAt, (o) => o.status === 200)!.endedAt - acceptingAt;
    const apiUpMs = first('api', acceptingAt, (o) => o.status < 300)!.endedAt - acceptingAt;
    await waitFor(() => since('api', acceptingAt).filter((o) => o.status < 300).length >= 10, 'traffic after recovery');
    const outcomes = await load.stop();

    const api = outcomes.filter((o) => o.label === 'api');
    const duringOutage = since('api', downAt + 200, upAt);
    const readyDuring = since('ready', downAt, upAt);
    const stored = await db.pool.query<{ id: string }>('SELECT id FROM tasks WHERE id = ANY($1::uuid[])', [acked]);
    console.log(
      [
        `scenario 1 (database down under load): ${outcomes.length} requests, ${api.length} to the API`,
        `  API statuses overall ${JSON.stringify(tally(api))}; during the outage ${JSON.stringify(tally(duringOutage))}`,
        `  API latency during the outage (ms) ${JSON.stringify(stats(duringOutage.map((o) => o.ms)))}`,
        `  /health/live ${JSON.stringify(tally(outcomes.filter((o) => o.label === 'live')))}; ` +
          `/health/ready during the outage ${JSON.stringify(tally(readyDuring))}, latency ${JSON.stringify(stats(readyDuring.map((o) => o.ms)))}`,
        `  readiness 503 ${readyDownMs} ms after the stop; the server took ${acceptingAt - upAt} ms to start again; ` +
          `then readiness 200 after ${readyUpMs} ms and the first API 2xx after ${apiUpMs} ms`,
        `  writes acknowledged ${acked.length}, found in the database ${stored.rowCount}`,
      ].join('\n'),
    );

    expect(alive(t)).toBe(true);
    expect(api.every((o) => [200, 201, 503].includes(o.status))).toBe(true);
    expect(duringOutage.length).toBeGreaterThanOrEqual(20);
    expect(duringOutage.every(isRetryable503)).toBe(true);
    expect(Math.max(...duringOutage.map((o) => o.ms))).toBeLessThan(CONNECT_TIMEOUT_MS + 2_000);
    expect(outcomes.filter((o) => o.label === 'live').every((o) => o.status === 200)).toBe(true);
    expect(readyDownMs).toBeLessThan(PING_TIMEOUT_MS + 4_000);
    expect(Math.max(...readyDuring.map((o) => o.ms))).toBeLessThan(PING_TIMEOUT_MS + 2_000);
    expect(readyUpMs).toBeLessThan(10_000);
    expect(stored.rowCount).toBe(acked.length);
  });
});

// Scenario 1b: what the routes scenario 1 does not load answer while the database is down, with the rate
// limits on: they are counted in PostgreSQL, so a limited route cannot count and must not let anything through.
describe('every kind of route while the database is down', () => {
  let pg: PostgresServer;
  let db: TestDatabase;
  let t: TestApp;
  let token: string;

  beforeAll(async () => {
    pg = await PostgresServer.start();
    db = await migratedDatabase(pg);
    t = await startTestApp({
      db,
      env: {
        ...FAST_APP_ENV,
        DB_CONNECT_TIMEOUT_MS: String(CONNECT_TIMEOUT_MS),
        HEALTH_DB_TIMEOUT_MS: String(PING_TIMEOUT_MS),
        THROTTLE_LOGIN_PER_IP: '20/60',
        THROTTLE_LOGIN_PER_EMAIL: '10/900',
        THROTTLE_REFRESH_PER_IP: '60/60',
        THROTTLE_PASSWORD_CHANGE_PER_USER: '5/900',
      },
    });
    ({ token } = await registerUser(t.url, 'down@example.com'));
    expect((await call(t.url, '/api/v1/tasks', { token })).status).toBe(200);
    await pg.stop();
  });
  afterAll(async () => {
    await t?.close();
    await db?.drop();
    await pg?.close();
  });

  it('turns readiness 503 problem+json that says which check failed', async () => {
    const res = await call(t.url, '/health/ready');
    expect(res.status).toBe(503);
    expect(res.contentType).toMatch(/^application\/problem\+json/);
    const body = res.body as Record<string, Record<string, unknown>> & { detail: string };
    expect(body.details.database).toEqual(expect.objectContaining({ status: 'down' }));
    expect(body.error.database).toEqual(expect.objectContaining({ status: 'down' }));
    expect(body.details.migrations).toEqual(expect.objectContaining({ status: 'down' }));
    expect(body.details.pool).toEqual(expect.objectContaining({ status: 'up', max: 10 }));
    expect(body.info).toEqual(expect.any(Object));
    expect(body.detail).toMatch(/database/);
  });

  it('answers sign-in, limited routes, the profile and invalid task requests 503 + Retry-After: no 400 first', async () => {
    const absent = '0193d6c2-7d4e-7c1a-9f1e-3c2b1a0f9e8d';
    const login = { email: 'down@example.com', password: 'correct horse battery' };
    const outcomes = await Promise.all([
      call(t.url, '/api/v1/auth/login', { method: 'POST', body: login }),
      call(t.url, '/api/v1/auth/login', { method: 'POST', body: { email: 'not an email' } }),
      call(t.url, '/api/v1/auth/refresh', { method: 'POST', body: { refreshToken: 'x' } }),
      call(t.url, '/api/v1/users/me/password', {
        method: 'PUT',
        token,
        body: { currentPassword: 'wrong password', newPassword: 'a brand new password' },
      }),
      call(t.url, '/api/v1/users/me', { token }),
      call(t.url, '/api/v1/tasks?limit=0', { token }),
      call(t.url, '/api/v1/tasks/not-a-uuid', { token }),
      call(t.url, `/api/v1/tasks/${absent}`, { method: 'PATCH', token, body: {} }),
    ]);
    console.log(
      `scenario 1b (every kind of route, database down): ${JSON.stringify(outcomes.map((o) => [o.label, o.status, o.ms]))}`,
    );
    for (const outcome of outcomes)
      expect({ route: outcome.label, retryable: isRetryable503(outcome) }).toEqual({
        route: outcome.label,
        retryable: true,
      });
    expect(Math.max(...outcomes.map((o) => o.ms))).toBeLessThan(CONNECT_TIMEOUT_MS + 3_000);
    expect(alive(t)).toBe(true);
  });

  it('counts the limited routes again once the database is back', async () => {
    await pg.startAgain();
    const wrong = { email: 'down@example.com', password: 'wrong password' };
    let back: Outcome | undefined;
    await waitFor(
      async () => {
        back = await call(t.url, '/api/v1/auth/login', { method: 'POST', body: wrong });
        return back.status !== 503;
      },
      'a login answered with the database back',
      15_000,
      250,
    );
    expect(back?.status).toBe(401);
    const { rows } = await db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM rate_limits');
    expect(rows[0].n).toBeGreaterThan(0);
    expect(t.logs.filter((line) => line.status === 500)).toEqual([]);
  });
});

// Scenario 2: the database is not there when the service starts.
describe('database down at boot', () => {
  let pg: PostgresServer;
  let db: TestDatabase;

  beforeAll(async () => {
    pg = await PostgresServer.start();
    db = await migratedDatabase(pg);
    await pg.stop();
  });
  afterAll(async () => {
    await db?.drop();
    await pg?.close();
  });

  it('retries for DB_STARTUP_RETRY_MS and serves once the database appears', async () => {
    // The proxy counts the connection attempts (Nest buffers its retry log lines until boot ends).
    const proxy = await TcpProxy.start({ port: pg.port });
    const startedAt = Date.now();
    const t = await startTestApp({
      db: { ...db, url: proxy.url(db.url) },
      waitForListen: false,
      env: { ...FAST_APP_ENV, DB_STARTUP_RETRY_MS: '60000' },
    });
    try {
      const retryingMs = await waitFor(() => proxy.accepted >= 3, 'three connection attempts at boot', 30_000);
      const upAt = Date.now();
      await pg.startAgain();
      const url = await listeningUrl(t, 30_000);
      const servingMs = Date.now() - upAt;
      const ready = await call(url, '/health/ready');
      const { token } = await registerUser(url, 'boot@example.com');
      const created = await call(url, '/api/v1/tasks', { method: 'POST', token, body: { title: 'after boot' } });
      const retries = t.logs.filter((line) => /Unable to connect to the database/.test(line.raw)).length;
      console.log(
        `scenario 2a (down at boot): 3 connection attempts within ${retryingMs} ms, ${retries} retries logged, ` +
          `listening ${servingMs} ms after the database came up (${Date.now() - startedAt} ms after spawn); ` +
          `ready ${ready.status}, first write ${created.status}`,
      );
      expect(retries).toBeGreaterThanOrEqual(2);
      expect(ready.status).toBe(200);
      expect(created.status).toBe(201);
    } finally {
      await t.close();
      await proxy.close();
      await pg.stop();
    }
  });

  it('exits non-zero once DB_STARTUP_RETRY_MS has passed without a database', async () => {
    const retryMs = 4_000;
    const proxy = await TcpProxy.start({ port: pg.port });
    const t = await startTestApp({
      db: { ...db, url: proxy.url(db.url) },
      waitForListen: false,
      env: { ...FAST_APP_ENV, DB_STARTUP_RETRY_MS: String(retryMs) },
    });
    try {
      await waitFor(() => proxy.accepted >= 1, 'the first connection attempt', 30_000);
      const firstAttemptAt = Date.now();
      await waitFor(() => !alive(t), 'the service to give up', 60_000);
      const retriedMs = Date.now() - firstAttemptAt;
      console.log(
        `scenario 2b (never comes up): DB_STARTUP_RETRY_MS=${retryMs}: ${proxy.accepted} connection attempts over ` +
          `${retriedMs} ms, then exit code ${t.process.exitCode} (signal ${t.process.signalCode}); ` +
          `${t.logs.filter((line) => line.raw.includes('Unable to connect to the database')).length} retries logged`,
      );
      expect(t.process.exitCode).toBe(1);
      // Retries for the configured time, then gives up: a startupProbe can be sized on it.
      expect(retriedMs).toBeGreaterThanOrEqual(retryMs - 300);
      expect(retriedMs).toBeLessThan(retryMs + 10_000);
      expect(proxy.accepted).toBe(retryMs / 2_000 + 1);
      expect(t.logs.some((line) => line.raw.includes('Unable to connect to the database'))).toBe(true);
    } finally {
      await t.close();
      await proxy.close();
    }
  });
});
