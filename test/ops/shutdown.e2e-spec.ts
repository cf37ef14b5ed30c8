import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import request from 'supertest';
import { startTestApp, type TestApp } from '../support/app';
import { createTestDatabase } from '../support/database';
import { expectProblem, waitFor } from '../support/http';

const run = promisify(execFile);
const ROOT = join(__dirname, '..', '..');

async function register(t: TestApp, email: string): Promise<string> {
  const res = await t.api.post('/api/v1/auth/register').send({ email, password: 'correct horse battery', name: 'Op' });
  expect(res.status).toBe(201);
  return res.body.accessToken as string;
}

describe('graceful shutdown', () => {
  it('finishes every request in flight at SIGTERM, closes the pool and exits 0', async () => {
    const t = await startTestApp({ env: { DB_POOL_MAX: '1', DB_POOL_MAX_WAITING: '1000', SHUTDOWN_DRAIN_MS: '0' } });
    const blocker = await t.db.pool.connect();
    try {
      const token = await register(t, 'shutdown@example.com');
      // Hold the tasks table so that every request is provably inside the server (one on the pool's
      // only connection, the rest queued for it) when the signal lands.
      await blocker.query('BEGIN');
      await blocker.query('LOCK TABLE tasks IN ACCESS EXCLUSIVE MODE');
      const requests = 40;
      const inFlight = Array.from({ length: requests }, (_, i) =>
        (i % 2 === 0
          ? t.api
              .post('/api/v1/tasks')
              .auth(token, { type: 'bearer' })
              .send({ title: `task ${i}` })
          : t.api.get('/api/v1/tasks').auth(token, { type: 'bearer' })
        ).then((res) => res.status),
      );
      await waitFor(async () => (await poolWaiting(t)) === requests - 1, 10_000, 'every request queued');

      const exited = t.stop('SIGTERM');
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(t.process.exitCode).toBeNull(); // still finishing its requests
      await blocker.query('COMMIT');

      const statuses = await Promise.all(inFlight);
      console.log(
        `shutdown under load: ${requests} requests in flight at SIGTERM, statuses ${JSON.stringify(count(statuses))}`,
      );
      expect(statuses.every((status) => status === 200 || status === 201)).toBe(true);
      expect(await exited).toBe(0);
      const created = await t.db.pool.query('SELECT count(*)::int AS n FROM tasks');
      expect(created.rows[0].n).toBe(requests / 2);
      expect(t.logs.some((line) => line.msg === 'shut down cleanly')).toBe(true);
    } finally {
      blocker.release();
      await t.close();
    }
  });

  it('turns readiness 503 at once and keeps serving through the drain', async () => {
    const t = await startTestApp({ env: { SHUTDOWN_DRAIN_MS: '1500' } });
    try {
      const token = await register(t, 'drain@example.com');
      expect((await t.api.get('/health/ready')).status).toBe(200);
      const exited = t.stop('SIGTERM');
      await new Promise((resolve) => setTimeout(resolve, 100));

      const ready = await t.api.get('/health/ready');
      expect(ready.status).toBe(503);
      expect(ready.headers['content-type']).toContain('application/problem+json');
      expect(ready.body.details.shutdown.status).toBe('down');
      expect((await t.api.get('/health/live')).status).toBe(200);
      expect((await t.api.get('/api/v1/tasks').auth(token, { type: 'bearer' })).status).toBe(200);
      expect(await exited).toBe(0);
    } finally {
      await t.close();
    }
  });
});

describe('metrics', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('exposes request durations by route template, pool gauges and process metrics', async () => {
    const token = await register(t, 'metrics@example.com');
    const created = await t.api.post('/api/v1/tasks').auth(token, { type: 'bearer' }).send({ title: 'measured' });
    await t.api.get(`/api/v1/tasks/${created.body.id}`).auth(token, { type: 'bearer' });
    await t.api.get('/no/such/route');

    const res = await t.api.get('/metrics');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = res.text;
    expect(text).toMatch(
      /http_request_duration_seconds_bucket\{le="[^"]+",method="GET",route="\/api\/v1\/tasks\/:id",status_code="200"\} 1/,
    );
    expect(text).toMatch(
      /http_request_duration_seconds_count\{method="POST",route="\/api\/v1\/tasks",status_code="201"\} 1/,
    );
    expect(text).toMatch(/http_request_duration_seconds_count\{method="GET",route="unmatched",status_code="404"\} 1/);
    expect(text).not.toContain(created.body.id);
    expect(text).toMatch(/^db_pool_connections_max 10$/m);
    expect(text).toMatch(/^db_pool_connections_total \d+$/m);
    expect(text).toMatch(/^db_pool_connections_idle \d+$/m);
    expect(text).toMatch(/^db_pool_waiting_requests 0$/m);
    expect(text).toMatch(/^process_cpu_user_seconds_total /m);
    expect(text).toMatch(/^nodejs_heap_size_used_bytes /m);
  });
});

describe('/docs and /metrics switched by configuration', () => {
  let t: TestApp;
  let metrics: ReturnType<typeof request>;
  beforeAll(async () => {
    t = await startTestApp({ env: { DOCS_ENABLED: 'false', METRICS_PORT: '0' } });
    const line = t.logs.find((entry) => /^metrics on http:/.test(entry.msg ?? ''));
    metrics = request(/^metrics on (http:\/\/[^/]+)/.exec(line!.msg!)![1]);
  });
  afterAll(() => t.close());

  it.each(['/docs', '/docs/', '/docs-json', '/docs/swagger-ui-init.js'])(
    'answers %s with a 404 problem when DOCS_ENABLED=false',
    async (path) => {
      expectProblem(await t.api.get(path), 404, path);
    },
  );

  it('serves /metrics on METRICS_PORT only, and nothing else there', async () => {
    expect((await t.api.get('/health/live')).status).toBe(200);
    expectProblem(await t.api.get('/metrics'), 404, '/metrics');

    const scrape = await metrics.get('/metrics');
    expect(scrape.status).toBe(200);
    expect(scrape.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(scrape.headers['x-content-type-options']).toBe('nosniff');
    // Both listeners feed one registry: the API's requests are counted, the refused scrape as a 404.
    expect(scrape.text).toMatch(
      /http_request_duration_seconds_count\{method="GET",route="\/health\/live",status_code="200"\} 1/,
    );
    expect(scrape.text).toMatch(
      /http_request_duration_seconds_count\{method="GET",route="\/metrics",status_code="404"\} 1/,
    );

    for (const path of ['/health/live', '/health/ready', '/api/v1/users/me', '/no-such-thing']) {
      expectProblem(await metrics.get(path), 404, path);
    }
  });

  it('logs where the metrics are and stops both listeners on SIGTERM', async () => {
    expect(t.logs.some((entry) => entry.msg === `listening on ${t.url}`)).toBe(true);
    expect(await t.stop('SIGTERM')).toBe(0);
    await expect(metrics.get('/metrics')).rejects.toThrow(/ECONNREFUSED/);
  });
});

describe('migrations as a deploy step', () => {
  it('two migration:run started at once both succeed and apply each migration exactly once', async () => {
    const db = await createTestDatabase({ migrated: false });
    try {
      const env = { PATH: process.env.PATH, NODE_ENV: 'test', DATABASE_URL: db.url };
      const runs = await Promise.all(
        [1, 2].map(() => run('npm', ['run', '--silent', 'migration:run'], { cwd: ROOT, env })),
      );
      expect(runs).toHaveLength(2);
      const applied = await db.pool.query(
        'SELECT name, count(*)::int AS n FROM migrations GROUP BY name ORDER BY name',
      );
      expect(applied.rows.length).toBeGreaterThanOrEqual(2);
      expect(applied.rows.every((row: { n: number }) => row.n === 1)).toBe(true);
      const tasks = await db.pool.query(`SELECT to_regclass('public.tasks') AS t`);
      expect(tasks.rows[0].t).toBe('tasks');
    } finally {
      await db.drop();
    }
  });
});

async function poolWaiting(t: TestApp): Promise<number> {
  const res = await t.api.get('/metrics');
  return Number(/^db_pool_waiting_requests (\d+)$/m.exec(res.text)?.[1] ?? -1);
}

function count(values: number[]): Record<number, number> {
  return values.reduce<Record<number, number>>((acc, value) => ({ ...acc, [value]: (acc[value] ?? 0) + 1 }), {});
}
