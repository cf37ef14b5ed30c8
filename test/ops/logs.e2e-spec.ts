import { randomUUID } from 'node:crypto';
import { startTestApp, type LogLine, type TestApp } from '../support/app';
import { registerUser, type Account } from '../support/auth';
import { expectProblem, waitFor } from '../support/http';

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
