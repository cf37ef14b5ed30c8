import { startTestApp, type TestApp } from '../support/app';
import { createTestDatabase, type TestDatabase } from '../support/database';
import {
  alive,
  call,
  FAST_APP_ENV,
  isRetryable503,
  metric,
  migratedDatabase,
  registerUser,
  sleep,
  stats,
  tally,
  waitFor,
  type Outcome,
} from '../support/faults';
import { PostgresServer } from '../support/postgres-server';
import { TcpProxy } from '../support/tcp-proxy';

async function appBackends(t: TestApp, state?: string): Promise<{ pid: number; state: string; wait: string }[]> {
  const { rows } = await t.db.pool.query(
    `SELECT pid, state, coalesce(wait_event_type, '') AS wait FROM pg_stat_activity
      WHERE datname = $1 AND application_name = 'tasks-api' AND ($2::text IS NULL OR state = $2)`,
    [t.db.name, state ?? null],
  );
  return rows;
}

// Scenario 3: Neon suspending a compute terminates every backend, idle or busy.
describe('connections killed under the service', () => {
  let t: TestApp;
  let token: string;

  beforeAll(async () => {
    t = await startTestApp({ env: { ...FAST_APP_ENV, DB_POOL_MAX: '4' } });
    ({ token } = await registerUser(t.url, 'killed@example.com'));
  });
  afterAll(() => t?.close());

  const burst = (n: number) =>
    Promise.all(
      Array.from({ length: n }, (_, i) =>
        call(t.url, '/api/v1/tasks', { method: 'POST', token, body: { title: `burst ${i}` } }),
      ),
    );

  it('survives idle connections being terminated and reconnects on the next request', async () => {
    expect(tally(await burst(12))).toEqual({ 201: 12 });
    const killed = (await appBackends(t, 'idle')).map((b) => b.pid);
    expect(killed.length).toBeGreaterThanOrEqual(2);
    await t.db.pool.query('SELECT pg_terminate_backend(pid) FROM unnest($1::int[]) AS pid', [killed]);
    const droppedMs = await waitFor(
      async () => (await metric(t.url, 'db_pool_connections_total')) === 0,
      'the pool to drop the dead clients',
    );

    const after = await burst(12);
    const fresh = (await appBackends(t)).map((b) => b.pid);
    const closedLogs = t.logs.filter((line) => String(line.msg).includes('idle connection closed')).length;
    console.log(
      `scenario 3a (idle connections terminated): killed ${killed.length} backends; pool emptied in ${droppedMs} ms; ` +
        `${closedLogs} pool error events logged; next 12 requests ${JSON.stringify(tally(after))} on ` +
        `${fresh.length} fresh backends`,
    );
    expect(alive(t)).toBe(true);
    expect(tally(after)).toEqual({ 201: 12 });
    expect(fresh.some((pid) => killed.includes(pid))).toBe(false);
    expect(closedLogs).toBeGreaterThanOrEqual(1);
  });

  it('answers 503 to the request whose connection is killed mid-query, then serves on fresh connections', async () => {
    const blocker = await t.db.pool.connect();
    let inFlight: Outcome;
    let victim: number;
    try {
      await blocker.query('BEGIN');
      await blocker.query('LOCK TABLE tasks IN ACCESS EXCLUSIVE MODE');
      const pending = call(t.url, '/api/v1/tasks', { token });
      await waitFor(async () => (await appBackends(t)).some((b) => b.wait === 'Lock'), 'the request to block');
      victim = (await appBackends(t)).find((b) => b.wait === 'Lock')!.pid;
      await t.db.pool.query('SELECT pg_terminate_backend($1)', [victim]);
      inFlight = await pending;
    } finally {
      await blocker.query('COMMIT').catch(() => undefined);
      blocker.release();
    }

    const next = await Promise.all(Array.from({ length: 10 }, () => call(t.url, '/api/v1/tasks', { token })));
    const backends = (await appBackends(t)).map((b) => b.pid);
    console.log(
      `scenario 3b (busy connection terminated): the blocked request got ${inFlight.status} ` +
        `(${(inFlight.body as { detail?: string }).detail}) after ${inFlight.ms} ms; ` +
        `next 10 requests ${JSON.stringify(tally(next))}; the process is ${alive(t) ? 'alive' : 'DEAD'}`,
    );
    expect(isRetryable503(inFlight)).toBe(true);
    expect(tally(next)).toEqual({ 200: 10 });
    expect(backends).not.toContain(victim);
    expect(alive(t)).toBe(true);
  });
});

// Scenario 4: a frozen database host (SIGSTOP) and a network partition (TCP blackhole).
describe('frozen or unreachable database', () => {
  const MAX_WAITING = 5;
  const CONNECT_TIMEOUT_MS = 2_000;
  const STATEMENT_TIMEOUT_MS = 1_500; // the client-side query timeout is 2 s more
  const PING_TIMEOUT_MS = 1_000;
  let pg: PostgresServer;
  let proxy: TcpProxy;
  let db: TestDatabase;
  let t: TestApp;
  let token: string;

  beforeAll(async () => {
    pg = await PostgresServer.start();
    db = await migratedDatabase(pg);
    proxy = await TcpProxy.start({ port: pg.port });
    t = await startTestApp({
      db: { ...db, url: proxy.url(db.url) },
      env: {
        ...FAST_APP_ENV,
        DB_POOL_MAX: '3',
        DB_POOL_MAX_WAITING: String(MAX_WAITING),
        DB_CONNECT_TIMEOUT_MS: String(CONNECT_TIMEOUT_MS),
        DB_STATEMENT_TIMEOUT_MS: String(STATEMENT_TIMEOUT_MS),
        HEALTH_DB_TIMEOUT_MS: String(PING_TIMEOUT_MS),
      },
    });
    ({ token } = await registerUser(t.url, 'frozen@example.com'));
  });
  afterAll(async () => {
    await t?.close();
    await proxy?.close();
    await db?.drop();
    await pg?.close();
  });

  /** 40 concurrent API calls and a readiness probe every 250 ms while `fault` holds; samples the wait queue. */
  async function underFault(name: string, fault: () => void, repair: () => void) {
    expect((await call(t.url, '/api/v1/tasks', { token })).status).toBe(200);
    const waiting: number[] = [];
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        waiting.push(await metric(t.url, 'db_pool_waiting_requests'));
        await sleep(100);
      }
    })();
    fault();
    const faultAt = Date.now();
    const api = Promise.all(
      Array.from({ length: 40 }, (_, i) => call(t.url, i % 2 ? '/api/v1/tasks' : '/api/v1/tasks/stats', { token })),
    );
    const probes: Outcome[] = [];
    while (Date.now() - faultAt < 5_000) {
      probes.push(await call(t.url, '/health/ready'));
      await sleep(250);
    }
    const outcomes = await api;
    const live = await call(t.url, '/health/live');

    repair();
    const repairedAt = Date.now();
    await waitFor(async () => (await call(t.url, '/health/ready')).status === 200, 'readiness 200', 30_000);
    const readyMs = Date.now() - repairedAt;
    await waitFor(async () => (await call(t.url, '/api/v1/tasks', { token })).status === 200, 'an API 200', 30_000);
    const apiMs = Date.now() - repairedAt;
    sampling = false;
    await sampler;

    console.log(
      `scenario 4 (${name}): 40 concurrent API calls ${JSON.stringify(tally(outcomes))}, latency (ms) ` +
        `${JSON.stringify(stats(outcomes.map((o) => o.ms)))}; ${probes.length} readiness probes ` +
        `${JSON.stringify(tally(probes))}, latency ${JSON.stringify(stats(probes.map((o) => o.ms)))}; ` +
        `readiness 503 from ${(probes.find((o) => o.status === 503)?.startedAt ?? NaN) - faultAt} ms after the fault; ` +
        `pool wait queue max ${Math.max(...waiting)} (limit ${MAX_WAITING}); /health/live ${live.status}; ` +
        `after repair: ready in ${readyMs} ms, API 200 in ${apiMs} ms`,
    );
    expect(alive(t)).toBe(true);
    expect(outcomes.every(isRetryable503)).toBe(true);
    // Queued at most the acquire timeout, then at most the client-side query timeout on a connection.
    expect(Math.max(...outcomes.map((o) => o.ms))).toBeLessThan(
      CONNECT_TIMEOUT_MS + STATEMENT_TIMEOUT_MS + 2_000 + 3_000,
    );
    // A busy pool that was completing queries until the fault counts as healthy for one ping timeout.
    const afterGrace = probes.filter((o) => o.startedAt >= faultAt + PING_TIMEOUT_MS + 250);
    expect(afterGrace.length).toBeGreaterThanOrEqual(3);
    expect(afterGrace.every((o) => o.status === 503)).toBe(true);
    expect(Math.max(...probes.map((o) => o.ms))).toBeLessThan(PING_TIMEOUT_MS + 1_500);
    expect(Math.max(...waiting)).toBeLessThanOrEqual(MAX_WAITING);
    expect(live.status).toBe(200);
  }

  it('stays bounded while the server is frozen (SIGSTOP) and recovers after SIGCONT', async () => {
    await underFault(
      'SIGSTOP',
      () => pg.pause(),
      () => pg.resume(),
    );
  });

  it('stays bounded behind a TCP blackhole and recovers when the network heals', async () => {
    await underFault(
      'TCP blackhole',
      () => proxy.setMode('blackhole'),
      () => proxy.setMode('pass'),
    );
  });
});

// Scenario 5: a cold start — new connections take seconds while the compute wakes.
describe('cold start: slow new connections', () => {
  const CONNECT_TIMEOUT_MS = 3_000;
  let db: TestDatabase;
  let proxy: TcpProxy;
  let t: TestApp;
  let token: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    proxy = await TcpProxy.start({ port: Number(new URL(db.url).port) });
    t = await startTestApp({
      db: { ...db, url: proxy.url(db.url) },
      env: { ...FAST_APP_ENV, DB_CONNECT_TIMEOUT_MS: String(CONNECT_TIMEOUT_MS), DB_POOL_MAX: '2' },
    });
    ({ token } = await registerUser(t.url, 'cold@example.com'));
  });
  afterAll(async () => {
    await t?.close();
    await proxy?.close();
    await db?.drop();
  });

  /** One request on a connection opened for it: the proxy's open connections are dropped first. */
  async function onNewConnection(): Promise<Outcome> {
    proxy.resetAll();
    await waitFor(async () => (await metric(t.url, 'db_pool_connections_total')) === 0, 'an empty pool');
    return call(t.url, '/api/v1/tasks', { token });
  }

  it('serves slowly within the connect timeout, answers 503 beyond it, and recovers', async () => {
    const results: Record<string, Outcome[]> = { 'delay 1500 ms': [], 'delay 6000 ms': [], 'no delay': [] };
    proxy.setMode('delay', 1_500);
    for (let i = 0; i < 3; i += 1) results['delay 1500 ms'].push(await onNewConnection());
    proxy.setMode('delay', 6_000);
    for (let i = 0; i < 3; i += 1) results['delay 6000 ms'].push(await onNewConnection());
    proxy.setMode('pass');
    for (let i = 0; i < 3; i += 1) results['no delay'].push(await onNewConnection());

    console.log(
      `scenario 5 (cold start, DB_CONNECT_TIMEOUT_MS=${CONNECT_TIMEOUT_MS}): ` +
        Object.entries(results)
          .map(([phase, o]) => `${phase}: ${JSON.stringify(tally(o))} in ${o.map((x) => x.ms).join('/')} ms`)
          .join('; ') +
        `; ${proxy.accepted} connections through the proxy`,
    );
    for (const o of results['delay 1500 ms']) {
      expect(o.status).toBe(200);
      expect(o.ms).toBeGreaterThanOrEqual(1_400);
      expect(o.ms).toBeLessThan(CONNECT_TIMEOUT_MS + 2_000);
    }
    for (const o of results['delay 6000 ms']) {
      expect(isRetryable503(o)).toBe(true);
      expect(o.ms).toBeGreaterThanOrEqual(CONNECT_TIMEOUT_MS - 200);
      expect(o.ms).toBeLessThan(CONNECT_TIMEOUT_MS + 2_000);
    }
    for (const o of results['no delay']) expect(o.status).toBe(200);
    expect(alive(t)).toBe(true);
  });
});
