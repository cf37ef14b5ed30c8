import request from 'supertest';
import { snapshotDocument, useDocument } from '../support/contract';
import { startTestApp, type TestApp } from '../support/app';
import { expectProblem } from '../support/http';

async function register(t: TestApp, email: string): Promise<string> {
  const res = await t.api.post('/api/v1/auth/register').send({ email, password: 'correct horse battery', name: 'Op' });
  expect(res.status).toBe(201);
  return res.body.accessToken as string;
}

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
    const origin = /^metrics on (http:\/\/[^/]+)/.exec(line!.msg!)![1];
    // The metrics listener serves /metrics and nothing else, the API's listener everything else.
    const { paths, ...document } = snapshotDocument();
    const { '/metrics': scrape, ...api } = paths;
    useDocument(origin, { ...document, paths: { '/metrics': scrape } }, 'the metrics listener');
    useDocument(new URL(t.url).origin, { ...document, paths: api }, 'openapi.json without /metrics');
    metrics = request(origin);
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

  it('leaves /metrics out of the document the API listener serves', async () => {
    const docs = await startTestApp({ env: { METRICS_PORT: '0' } });
    try {
      const { paths } = (await docs.api.get('/docs-json').expect(200)).body as { paths: Record<string, unknown> };
      expect(paths).not.toHaveProperty(['/metrics']);
      expect(paths).toHaveProperty(['/health/live']);
    } finally {
      await docs.close();
    }
  });

  it('logs where the metrics are and stops both listeners on SIGTERM', async () => {
    expect(t.logs.some((entry) => entry.msg === `listening on ${t.url}`)).toBe(true);
    expect(await t.stop('SIGTERM')).toBe(0);
    await expect(metrics.get('/metrics')).rejects.toThrow(/ECONNREFUSED/);
  });
});
