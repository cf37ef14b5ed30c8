import { startTestApp, type TestApp } from '../support/app';
import { waitFor } from '../support/http';

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

async function poolWaiting(t: TestApp): Promise<number> {
  const res = await t.api.get('/metrics');
  return Number(/^db_pool_waiting_requests (\d+)$/m.exec(res.text)?.[1] ?? -1);
}

function count(values: number[]): Record<number, number> {
  return values.reduce<Record<number, number>>((acc, value) => ({ ...acc, [value]: (acc[value] ?? 0) + 1 }), {});
}
