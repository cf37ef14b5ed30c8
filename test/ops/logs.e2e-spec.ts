import { randomUUID } from 'node:crypto';
import { startTestApp, type LogLine, type TestApp } from '../support/app';
import { registerUser, type Account } from '../support/auth';
import { accessLines, expectProblem, waitFor } from '../support/http';

jest.setTimeout(60_000);

// Search terms and cursors travel in query strings: what a user searched for must never reach a log.
describe('logs carry the route and path, never the query string', () => {
  let t: TestApp;
  let alice: Account;
  const sentinel = `medicalsentinel${randomUUID().slice(0, 8)}`;
  let cursor: string;

  beforeAll(async () => {
    // Trace level: whatever the service would log at any level is in t.logs.
    t = await startTestApp({ env: { LOG_LEVEL: 'trace', DB_STATEMENT_TIMEOUT_MS: '1000' } });
    alice = await registerUser(t.api, { email: 'alice.logs@example.com' });
    for (const title of [`${sentinel} one`, `${sentinel} two`]) {
      const res = await t.api.post('/api/v1/tasks').auth(alice.accessToken, { type: 'bearer' }).send({ title });
      expect(res.status).toBe(201);
    }
    const page = await list(`q=${sentinel}&limit=1`);
    expect(page.status).toBe(200);
    cursor = page.body.nextCursor;
    expect(cursor).toEqual(expect.any(String));
  });
  afterAll(() => t.close());

  const list = (query: string, requestId: string = randomUUID()) =>
    t.api.get(`/api/v1/tasks?${query}`).auth(alice.accessToken, { type: 'bearer' }).set('x-request-id', requestId);

  /** The lines about one request, waited for, then given a moment for any other line to show up. */
  async function linesOf(requestId: string, count: number): Promise<LogLine[]> {
    const ofRequest = () => t.logs.filter((line) => line.reqId === requestId || line.requestId === requestId);
    await waitFor(() => ofRequest().length >= count, 5_000, `${count} log lines of ${requestId}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
    return ofRequest();
  }

  function expectNoQueryInLogs(...secrets: string[]): void {
    for (const secret of secrets) {
      expect(t.logs.filter((line) => line.raw.includes(secret)).map((line) => line.raw)).toEqual([]);
    }
  }

  it('logs an unhandled error (500) with the route and path but not the search term or cursor', async () => {
    const requestId = `broken-${randomUUID()}`;
    await t.db.pool.query('ALTER TABLE tasks RENAME TO tasks_hidden_by_test');
    try {
      const res = await list(`q=${sentinel}&limit=1&cursor=${encodeURIComponent(cursor)}`, requestId);
      expectProblem(res, 500, '/api/v1/tasks');
      const lines = await linesOf(requestId, 2);
      const error = lines.find((line) => line.msg === 'unhandled error');
      expect(error).toEqual(expect.objectContaining({ level: 50, route: '/api/v1/tasks', path: '/api/v1/tasks' }));
      expect(error).not.toHaveProperty('url');
    } finally {
      await t.db.pool.query('ALTER TABLE tasks_hidden_by_test RENAME TO tasks');
    }
    expectNoQueryInLogs(sentinel, cursor);
  });

  it('logs a database timeout (503) with the route and path but not the search term', async () => {
    const requestId = `slow-${randomUUID()}`;
    const blocker = await t.db.pool.connect();
    try {
      await blocker.query('BEGIN');
      await blocker.query('LOCK TABLE tasks IN ACCESS EXCLUSIVE MODE');
      const res = await list(`q=${sentinel}`, requestId);
      expectProblem(res, 503, '/api/v1/tasks');
      const lines = await linesOf(requestId, 2);
      const warning = lines.find((line) => line.level === 40);
      expect(warning).toEqual(expect.objectContaining({ route: '/api/v1/tasks', path: '/api/v1/tasks' }));
      expect(warning).not.toHaveProperty('url');
    } finally {
      await blocker.query('COMMIT');
      blocker.release();
    }
    expectNoQueryInLogs(sentinel);
  });

  it('writes the access log line of a search without its query string', async () => {
    const secret = `secret${randomUUID().slice(0, 8)}`;
    const requestId = randomUUID();
    const res = await list(`q=${secret}&limit=5`, requestId);
    expect(res.status).toBe(200);
    const [line] = await linesOf(requestId, 1);
    expect(line).toEqual(
      expect.objectContaining({ method: 'GET', route: '/api/v1/tasks', path: '/api/v1/tasks', status: 200 }),
    );
    expectNoQueryInLogs(secret);
  });

  it('writes the access log line of an unknown route without its query string', async () => {
    const token = `token${randomUUID().slice(0, 8)}`;
    const res = await t.api.get(`/api/v1/nothing-here?access_token=${token}`);
    expectProblem(res, 404, '/api/v1/nothing-here');
    const [line] = await linesOf(res.headers['x-request-id'], 1);
    expect(line).toEqual(expect.objectContaining({ path: '/api/v1/nothing-here', status: 404 }));
    expectNoQueryInLogs(token);
  });
});

// One line per request, with what an operator needs and nothing a client sent in secret.
describe('access log', () => {
  let t: TestApp;
  let alice: Account;

  beforeAll(async () => {
    t = await startTestApp();
    alice = await registerUser(t.api, { email: 'alice.access-log@example.com' });
  });
  afterAll(() => t.close());

  const createTask = () => t.api.post('/api/v1/tasks').auth(alice.accessToken, { type: 'bearer' });

  it('writes exactly one line per request with reqId, method, route template, status and duration', async () => {
    const task = await createTask().send({ title: 'logged' });
    expect(task.status).toBe(201);
    const id = `log-${randomUUID()}`;
    const res = await t.api
      .get(`/api/v1/tasks/${task.body.id}`)
      .auth(alice.accessToken, { type: 'bearer' })
      .set('x-request-id', id);
    expect(res.status).toBe(200);

    const lines = await accessLines(t, id);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toEqual(
      expect.objectContaining({
        reqId: id,
        method: 'GET',
        route: '/api/v1/tasks/:id',
        status: 200,
        durationMs: expect.any(Number),
      }),
    );
    expect(lines[0].durationMs as number).toBeGreaterThanOrEqual(0);
    await t.db.pool.query('DELETE FROM tasks WHERE id = $1', [task.body.id]);
  });

  it.each([
    ['a validation error', 'post', '/api/v1/tasks', { title: '' }, 400, '/api/v1/tasks'],
    ['a body-parser error', 'post', '/api/v1/tasks', '{"broken', 400, '/api/v1/tasks'],
    ['an unknown route', 'get', '/api/v1/nothing-here', undefined, 404, undefined],
    ['the docs', 'get', '/docs-json', undefined, 200, '/docs-json'],
  ] as const)('logs %s once', async (_what, method, path, body, status, route) => {
    const id = `log-${randomUUID()}`;
    let req = t.api[method](path).auth(alice.accessToken, { type: 'bearer' }).set('x-request-id', id);
    if (typeof body === 'string') req = req.set('content-type', 'application/json').send(body);
    else if (body) req = req.send(body);
    const res = await req;
    expect(res.status).toBe(status);

    const lines = await accessLines(t, id);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toEqual(
      expect.objectContaining({ reqId: id, method: method.toUpperCase(), status, durationMs: expect.any(Number) }),
    );
    if (route) expect(lines[0].route).toBe(route);
  });

  it('never writes the Authorization header value', async () => {
    const bogus = `Bearer bogus-${randomUUID()}`;
    const res = await t.api.get('/api/v1/tasks').set('authorization', bogus);
    expectProblem(res, 401);
    await accessLines(t, res.headers['x-request-id']);
    const token = alice.accessToken;
    expect(t.logs.filter((line) => line.raw.includes(token))).toEqual([]);
    expect(t.logs.filter((line) => line.raw.includes(bogus.slice(7)))).toEqual([]);
  });
});
