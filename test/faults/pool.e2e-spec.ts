import { Client } from 'pg';
import { startTestApp, type TestApp } from '../support/app';
import type { TestDatabase } from '../support/database';
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

const detailOf = (o: Outcome) => String((o.body as { detail?: unknown })?.detail ?? o.status);

async function backends(pool: Pick<Client, 'query'>, database: string, app = 'tasks-api') {
  const { rows } = await pool.query<{ pid: number; state: string; wait: string; backend_start: Date }>(
    `SELECT pid, state, coalesce(wait_event_type, '') AS wait, backend_start FROM pg_stat_activity
      WHERE datname = $1 AND application_name = $2`,
    [database, app],
  );
  return rows;
}

// Scenario 8: far more concurrent requests than connections, with the connections held.
describe('pool exhaustion', () => {
  const POOL_MAX = 3;
  const MAX_WAITING = 10;
  const ACQUIRE_TIMEOUT_MS = 2_000;
  let t: TestApp;
  let token: string;

  beforeAll(async () => {
    t = await startTestApp({
      env: {
        ...FAST_APP_ENV,
        DB_POOL_MAX: String(POOL_MAX),
        DB_POOL_MAX_WAITING: String(MAX_WAITING),
        DB_CONNECT_TIMEOUT_MS: String(ACQUIRE_TIMEOUT_MS),
        DB_STATEMENT_TIMEOUT_MS: '30000',
      },
    });
    ({ token } = await registerUser(t.url, 'exhausted@example.com'));
  });
  afterAll(() => t?.close());

  it('bounds the wait, sheds the excess fast with 503 + Retry-After, and is healthy right after', async () => {
    const requests = 60;
    const blocker = await t.db.pool.connect();
    let outcomes: Outcome[];
    const waiting: number[] = [];
    let sampling = true;
    try {
      await blocker.query('BEGIN');
      await blocker.query('LOCK TABLE tasks IN ACCESS EXCLUSIVE MODE');
      const sampler = (async () => {
        while (sampling) {
          waiting.push(await metric(t.url, 'db_pool_waiting_requests'));
          await sleep(50);
        }
      })();
      const all = Array.from({ length: requests }, () => call(t.url, '/api/v1/tasks', { token, timeoutMs: 30_000 }));
      // Everything but the requests holding the connections is answered while the lock is still held.
      const answered: Outcome[] = [];
      for (const p of all) void p.then((o) => answered.push(o));
      await waitFor(() => answered.length >= requests - POOL_MAX, 'all but the held requests to be answered');
      const heldBackends = (await backends(t.db.pool, t.db.name)).filter((b) => b.wait === 'Lock').length;
      await blocker.query('COMMIT');
      outcomes = await Promise.all(all);
      sampling = false;
      await sampler;
      console.log(`  (${heldBackends} connections were blocked on the lock when it was released)`);
    } finally {
      sampling = false;
      await blocker.query('ROLLBACK').catch(() => undefined);
      blocker.release();
    }
    const shed = outcomes.filter((o) => detailOf(o).includes('overloaded'));
    const timedOut = outcomes.filter((o) => o.status === 503 && !detailOf(o).includes('overloaded'));
    const served = outcomes.filter((o) => o.status === 200);
    const ready = await call(t.url, '/health/ready');
    const after = await Promise.all(Array.from({ length: 10 }, () => call(t.url, '/api/v1/tasks', { token })));
    console.log(
      [
        `scenario 8 (pool exhaustion: pool ${POOL_MAX}, wait queue ${MAX_WAITING}, acquire timeout ${ACQUIRE_TIMEOUT_MS} ms): ` +
          `${requests} concurrent requests ${JSON.stringify(tally(outcomes))}`,
        `  shed at once (queue full) ${shed.length}, latency ${JSON.stringify(stats(shed.map((o) => o.ms)))}`,
        `  gave up waiting ${timedOut.length}, latency ${JSON.stringify(stats(timedOut.map((o) => o.ms)))}`,
        `  served once the lock went ${served.length}, latency ${JSON.stringify(stats(served.map((o) => o.ms)))}`,
        `  wait queue max ${Math.max(...waiting)} over ${waiting.length} samples; right after: ready ${ready.status}, ` +
          `10 requests ${JSON.stringify(tally(after))}`,
      ].join('\n'),
    );
    expect(outcomes.every((o) => o.status === 200 || isRetryable503(o))).toBe(true);
    expect(shed.length).toBeGreaterThanOrEqual(requests - POOL_MAX - MAX_WAITING - 5);
    expect(Math.max(...shed.map((o) => o.ms))).toBeLessThan(ACQUIRE_TIMEOUT_MS);
    expect(Math.max(...timedOut.map((o) => o.ms), 0)).toBeLessThan(ACQUIRE_TIMEOUT_MS + 3_000);
    expect(Math.max(...waiting)).toBeLessThanOrEqual(MAX_WAITING);
    expect(ready.status).toBe(200);
    expect(tally(after)).toEqual({ 200: 10 });
    expect(alive(t)).toBe(true);
  });
});

// Scenario 9: a runaway statement is cancelled by the server, not merely abandoned by the client.
describe('runaway query', () => {
  const STATEMENT_TIMEOUT_MS = 1_000;
  let t: TestApp;
  let token: string;

  beforeAll(async () => {
    t = await startTestApp({
      env: { ...FAST_APP_ENV, DB_POOL_MAX: '1', DB_STATEMENT_TIMEOUT_MS: String(STATEMENT_TIMEOUT_MS) },
    });
    ({ token } = await registerUser(t.url, 'runaway@example.com'));
  });
  afterAll(() => t?.close());

  it('is cancelled server-side at the statement timeout; the client gets 503 and the connection is reused', async () => {
    expect((await call(t.url, '/api/v1/tasks', { token })).status).toBe(200);
    const [before] = await backends(t.db.pool, t.db.name);
    const blocker = await t.db.pool.connect();
    let outcome: Outcome;
    let during: Awaited<ReturnType<typeof backends>>;
    try {
      await blocker.query('BEGIN');
      await blocker.query('LOCK TABLE tasks IN ACCESS EXCLUSIVE MODE');
      outcome = await call(t.url, '/api/v1/tasks', { token });
      during = await backends(t.db.pool, t.db.name); // the lock is still held
    } finally {
      await blocker.query('COMMIT');
      blocker.release();
    }
    const next = await call(t.url, '/api/v1/tasks', { token });
    const [afterwards] = await backends(t.db.pool, t.db.name);
    console.log(
      `scenario 9 (runaway query, statement_timeout ${STATEMENT_TIMEOUT_MS} ms): ${outcome.status} ` +
        `"${detailOf(outcome)}" after ${outcome.ms} ms; app backend while the lock was still held: ` +
        `${during.map((b) => `${b.state}${b.wait ? `/${b.wait}` : ''}`).join(', ')}; next request ${next.status} ` +
        `on backend ${afterwards.pid === before.pid ? 'the same' : 'a different'} (pid ${afterwards.pid})`,
    );
    expect(isRetryable503(outcome)).toBe(true);
    expect(detailOf(outcome)).toContain('did not answer in time');
    // Cancelled by the server at ~1 s, well before the client's own timeout (statement + 2 s).
    expect(outcome.ms).toBeGreaterThanOrEqual(STATEMENT_TIMEOUT_MS - 100);
    expect(outcome.ms).toBeLessThan(STATEMENT_TIMEOUT_MS + 1_800);
    expect(during.filter((b) => b.wait === 'Lock')).toHaveLength(0);
    expect(next.status).toBe(200);
    expect(afterwards.pid).toBe(before.pid);
    expect(afterwards.backend_start).toEqual(before.backend_start);
  });
});

// Scenario 10: a low max_connections shared with a second instance of the service.
describe('connection cap', () => {
  let pg: PostgresServer;
  let db: TestDatabase;
  let a: TestApp;
  let b: TestApp;

  beforeAll(async () => {
    // Seven slots: the test's lock holder and its monitor, and five for the service.
    pg = await PostgresServer.start({
      settings: { max_connections: 7, superuser_reserved_connections: 0, reserved_connections: 0 },
    });
    db = await migratedDatabase(pg);
    const env = { ...FAST_APP_ENV, DB_POOL_MAX: '5', DB_IDLE_TIMEOUT_MS: '500' };
    [a, b] = await Promise.all([
      startTestApp({ db, env }),
      startTestApp({ db, env: { ...env, DB_APPLICATION_NAME: 'tasks-api-b' } }),
    ]);
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await db?.drop();
    await pg?.close();
  });

  it('answers 503 when the server refuses connections, never crashes, and recovers when slots free up', async () => {
    const { token: tokenA } = await registerUser(a.url, 'cap-a@example.com');
    const { token: tokenB } = await registerUser(b.url, 'cap-b@example.com');
    await waitFor(async () => (await metric(b.url, 'db_pool_connections_total')) === 0, 'B to close its idle slots');
    const monitor = new Client({ connectionString: db.url });
    await monitor.connect();
    const blocker = new Client({ connectionString: db.url });
    await blocker.connect();
    let heldByA: Outcome[];
    let refused: Outcome[];
    let readyB: Outcome;
    try {
      await blocker.query('BEGIN');
      await blocker.query('LOCK TABLE tasks IN ACCESS EXCLUSIVE MODE');
      // A fills the other five slots with requests blocked on the lock.
      const pendingA = Array.from({ length: 10 }, () => call(a.url, '/api/v1/tasks', { token: tokenA }));
      await waitFor(
        async () => (await backends(monitor, db.name)).filter((x) => x.wait === 'Lock').length === 5,
        'A to hold five connections',
      );
      refused = await Promise.all(Array.from({ length: 20 }, () => call(b.url, '/api/v1/tasks', { token: tokenB })));
      readyB = await call(b.url, '/health/ready');
      await blocker.query('COMMIT');
      heldByA = await Promise.all(pendingA);
    } finally {
      await blocker.end();
      await monitor.end();
    }
    const recoveredMs = await waitFor(
      async () => (await call(b.url, '/api/v1/tasks', { token: tokenB })).status === 200,
      'B to get a connection',
    );
    const refusedLogged = b.logs.filter((line) => /too many clients/.test(line.raw)).length;
    console.log(
      `scenario 10 (max_connections 7, 2 held by the test, two instances of pool 5): A (holding 5) ${JSON.stringify(tally(heldByA))}; ` +
        `B ${JSON.stringify(tally(refused))} "${detailOf(refused[0])}" in ${JSON.stringify(stats(refused.map((o) => o.ms)))} ms, ` +
        `B readiness ${readyB.status}; B served again ${recoveredMs} ms after A's requests finished; ` +
        `${refusedLogged} 'too many clients' log lines; both alive: ${alive(a) && alive(b)}`,
    );
    expect(refused.every(isRetryable503)).toBe(true);
    expect(readyB.status).toBe(503);
    expect(heldByA.every((o) => o.status === 200 || isRetryable503(o))).toBe(true);
    expect(alive(a)).toBe(true);
    expect(alive(b)).toBe(true);
  });
});

// Scenario 11: probes alone must not keep a Neon compute awake.
describe('readiness that lets Neon sleep', () => {
  let pg: PostgresServer;
  let db: TestDatabase;

  beforeAll(async () => {
    pg = await PostgresServer.start({ settings: { log_statement: 'all' } });
    db = await migratedDatabase(pg);
  });
  afterAll(async () => {
    await db?.drop();
    await pg?.close();
  });

  const probeQueries = (mark: number, app: string) =>
    pg.logsSince(mark).filter((line) => line.includes(` ${app} `) && line.includes('SELECT name FROM "migrations"'))
      .length;

  async function probe(t: TestApp, count: number, intervalMs: number): Promise<Outcome[]> {
    const outcomes: Outcome[] = [];
    for (let i = 0; i < count; i += 1) {
      outcomes.push(await call(t.url, '/health/ready'));
      await sleep(intervalMs);
    }
    return outcomes;
  }

  it('with HEALTH_DB_CACHE_TTL_MS, 20 probes in 10 s issue at most one query', async () => {
    const cached = await startTestApp({
      db,
      env: { ...FAST_APP_ENV, HEALTH_DB_CACHE_TTL_MS: '60000', DB_IDLE_TIMEOUT_MS: '1000' },
    });
    const uncached = await startTestApp({ db, env: { ...FAST_APP_ENV, DB_APPLICATION_NAME: 'tasks-api-nocache' } });
    try {
      const mark = pg.mark();
      const withCache = await probe(cached, 20, 500);
      const queriesWithCache = probeQueries(mark, 'tasks-api');
      const poolAfter = await metric(cached.url, 'db_pool_connections_total');
      const controlMark = pg.mark();
      const without = await probe(uncached, 5, 100);
      const queriesWithout = probeQueries(controlMark, 'tasks-api-nocache');
      console.log(
        `scenario 11 (readiness cache): HEALTH_DB_CACHE_TTL_MS=60000: 20 probes ${JSON.stringify(tally(withCache))} ` +
          `over 10 s issued ${queriesWithCache} readiness queries (server log), pool connections afterwards ${poolAfter}; ` +
          `without the cache: 5 probes issued ${queriesWithout}`,
      );
      expect(withCache.every((o) => o.status === 200)).toBe(true);
      expect(queriesWithCache).toBeLessThanOrEqual(1);
      expect(poolAfter).toBe(0);
      expect(queriesWithout).toBe(5);
      expect(without.every((o) => o.status === 200)).toBe(true);
    } finally {
      await cached.close();
      await uncached.close();
    }
  });
});
