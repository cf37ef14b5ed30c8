import { randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import { startTestApp, type LogLine, type TestApp } from '../../support/app';
import { registerUser, type Account } from '../../support/auth';
import { expectProblem, waitFor } from '../../support/http';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

// jest.config.js sets testTimeout on the e2e project, where Jest ignores it (it reads only the top-level
// option), so hooks and tests would get 5 s: too little for starting services under a parallel run.
jest.setTimeout(60_000);

describe('errors are RFC 9457 problem details', () => {
  let t: TestApp;
  let alice: Account;

  beforeAll(async () => {
    t = await startTestApp();
    alice = await registerUser(t.api, { email: 'alice.errors@example.com' });
  });
  afterAll(() => t.close());

  const taskCount = async () => Number((await t.db.pool.query('SELECT count(*) AS n FROM tasks')).rows[0].n);
  const createTask = () => t.api.post('/api/v1/tasks').auth(alice.accessToken, { type: 'bearer' });

  describe('request bodies', () => {
    it('answers a validation failure 400 with one entry per invalid field and creates nothing', async () => {
      const res = await createTask().send({ title: '', priority: 'urgent' });
      expectProblem(res, 400, '/api/v1/tasks');
      expect(res.body.errors).toEqual(
        expect.arrayContaining([
          { field: 'title', message: expect.stringContaining('title') },
          { field: 'priority', message: expect.stringContaining('priority') },
        ]),
      );
      expect(res.body.errors).toHaveLength(2);
      expect(await taskCount()).toBe(0);
    });

    it('rejects an unknown body field with 400 naming it', async () => {
      const res = await createTask().send({ title: 'fine', owner: alice.user.id });
      expectProblem(res, 400, '/api/v1/tasks');
      expect(res.body.errors).toEqual([{ field: 'owner', message: 'owner is not a known field' }]);
      expect(await taskCount()).toBe(0);
    });

    it('rejects malformed JSON with 400', async () => {
      const res = await createTask().set('content-type', 'application/json').send('{"title": "unterminated');
      expectProblem(res, 400, '/api/v1/tasks');
      expect(res.body.detail).toMatch(/not valid JSON/);
      expect(await taskCount()).toBe(0);
    });

    it('rejects an empty body sent as application/json with 400', async () => {
      const res = await createTask().set('content-type', 'application/json').set('content-length', '0').send('');
      expectProblem(res, 400, '/api/v1/tasks');
      expect(await taskCount()).toBe(0);
    });

    it('rejects JSON nested 40 levels deep with 400', async () => {
      let nested: unknown = 'deep';
      for (let level = 0; level < 40; level++) nested = { a: nested };
      const res = await createTask().send({ title: 'deep', description: nested });
      expectProblem(res, 400, '/api/v1/tasks');
      expect(res.body.detail).toMatch(/nested deeper/);
      expect(await taskCount()).toBe(0);
    });

    it('rejects a __proto__ key with 400', async () => {
      const res = await createTask()
        .set('content-type', 'application/json')
        .send('{"title": "poison", "__proto__": {"isAdmin": true}}');
      expectProblem(res, 400, '/api/v1/tasks');
      expect(await taskCount()).toBe(0);
    });

    it('rejects a constructor.prototype key with 400', async () => {
      const res = await createTask()
        .set('content-type', 'application/json')
        .send('{"title": "poison", "constructor": {"prototype": {"isAdmin": true}}}');
      expectProblem(res, 400, '/api/v1/tasks');
      expect(await taskCount()).toBe(0);
    });

    it('rejects a body over 64 KiB with 413', async () => {
      const res = await createTask().send({ title: 'big', description: 'x'.repeat(64 * 1024) });
      expectProblem(res, 413, '/api/v1/tasks');
      // The client is told the limit, not just that there is one (the filter's intended wording).
      expect(res.body.detail).toMatch(/65536 bytes|64 KiB/);
      expect(await taskCount()).toBe(0);
    });

    /**
     * Writes `requests` in full on one connection, then reads: the statuses answered, and who closed it (the
     * client, once every request has its answer, unless `untilClosed`).
     */
    function onOneConnection(
      requests: Buffer[],
      untilClosed = false,
    ): Promise<{ statuses: number[]; closedBy: 'server' | 'client' }> {
      const { hostname, port } = new URL(t.url);
      return new Promise((resolve) => {
        const socket = connect(Number(port), hostname);
        let data = '';
        let closedBy: 'server' | 'client' = 'server';
        const statuses = () => [...data.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1]));
        socket.on('data', (chunk) => {
          data += chunk.toString('latin1');
          if (!untilClosed && statuses().length === requests.length) {
            closedBy = 'client';
            socket.end();
          }
        });
        socket.on('error', () => undefined);
        socket.on('close', () => resolve({ statuses: statuses(), closedBy }));
        for (const bytes of requests) socket.write(bytes);
      });
    }

    const oversized = (bytes: number) =>
      Buffer.concat([
        Buffer.from(
          `POST /api/v1/tasks HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${alice.accessToken}\r\n` +
            `Content-Type: application/json\r\nContent-Length: ${bytes}\r\n\r\n`,
        ),
        Buffer.alloc(bytes, 'x'),
      ]);

    it('answers 413 to a client that sends its whole oversized body first, and keeps the connection', async () => {
      const next = Buffer.from('GET /health/live HTTP/1.1\r\nHost: localhost\r\n\r\n');
      const { statuses, closedBy } = await onOneConnection([oversized(2 * 1024 * 1024), next]);
      expect(statuses).toEqual([413, 200]);
      expect(closedBy).toBe('client');
    });

    it('drops the connection when a refused body goes on past 4 MiB, instead of reading it all', async () => {
      const { statuses, closedBy } = await onOneConnection([oversized(64 * 1024 * 1024)], true);
      expect(closedBy).toBe('server');
      expect(statuses.every((status) => status === 413)).toBe(true);
    });

    it.each(['text/plain', 'application/x-www-form-urlencoded'])('rejects content-type %s with 415', async (type) => {
      const res = await createTask().set('content-type', type).send('title=hello');
      expectProblem(res, 415, '/api/v1/tasks');
      // The client is told what to send instead (the filter's intended wording).
      expect(res.body.detail).toMatch(/application\/json/);
      expect(await taskCount()).toBe(0);
    });

    it.each([
      ['title', { title: 'a\u0000b' }],
      ['description', { title: 'fine', description: 'before\u0000after' }],
    ])('answers a NUL character in %s with 400, not a 500 from PostgreSQL', async (_field, body) => {
      // PostgreSQL text cannot hold U+0000 (22021): the request is at fault, not the server.
      const res = await createTask().send(body);
      expectProblem(res, 400, '/api/v1/tasks');
      expect(await taskCount()).toBe(0);
    });

    it('accepts a valid body (the cases above fail for their own reason)', async () => {
      const res = await createTask().send({ title: 'valid' });
      expect(res.status).toBe(201);
      expect(res.headers['x-request-id']).toEqual(expect.stringMatching(/\S/));
      expect(res.body).toEqual(expect.objectContaining({ title: 'valid', completed: false, priority: 'medium' }));
      await t.db.pool.query('DELETE FROM tasks WHERE id = $1', [res.body.id]);
    });
  });

  describe('routing', () => {
    it.each([
      ['get', '/api/v1/no-such-thing'],
      ['post', '/api/v1/no-such-thing'],
      ['get', '/no-such-thing'],
      ['post', '/no-such-thing'],
    ] as const)('answers %s %s with 404', async (method, path) => {
      const res = await t.api[method](path).auth(alice.accessToken, { type: 'bearer' });
      expectProblem(res, 404, path);
    });

    it('answers 404 for an unknown route without a token (routing comes before auth)', async () => {
      const res = await t.api.get('/api/v1/no-such-thing');
      expectProblem(res, 404, '/api/v1/no-such-thing');
    });

    it.each([
      ['put', '/api/v1/tasks'],
      ['delete', '/api/v1/tasks'],
      ['get', '/api/v1/auth/register'],
      ['post', '/health/live'],
    ] as const)('answers a wrong method (%s %s) with a problem, never a 2xx or 500', async (method, path) => {
      const res = await t.api[method](path).auth(alice.accessToken, { type: 'bearer' });
      expect([404, 405]).toContain(res.status);
      expectProblem(res, res.status, path);
      if (res.status === 405) expect(res.headers.allow).toEqual(expect.any(String));
    });
  });

  describe('errors raised before routing', () => {
    it('answers a malformed percent-encoding in the path with 400 problem+json', async () => {
      const res = await t.api.get('/api/v1/tasks/%E0%A4%A').auth(alice.accessToken, { type: 'bearer' });
      expectProblem(res, 400);
    });

    it('answers a request head over the size limit with 431 problem+json', async () => {
      const res = await t.api.get(`/api/v1/tasks?q=${'a'.repeat(20_000)}`).auth(alice.accessToken, { type: 'bearer' });
      expectProblem(res, 431);
    });
  });

  describe('authentication', () => {
    it('answers a missing bearer token with 401 and a Bearer challenge', async () => {
      const res = await t.api.get('/api/v1/tasks');
      expectProblem(res, 401, '/api/v1/tasks');
      expect(res.headers['www-authenticate']).toMatch(/^Bearer\b/);
    });

    it('answers a garbage bearer token with 401 and a Bearer challenge', async () => {
      const res = await t.api.get('/api/v1/tasks').auth('not-a-jwt', { type: 'bearer' });
      expectProblem(res, 401, '/api/v1/tasks');
      expect(res.headers['www-authenticate']).toMatch(/^Bearer\b/);
      expect(JSON.stringify(res.body)).not.toContain('not-a-jwt');
    });
  });

  describe('X-Request-Id', () => {
    it('echoes a sane caller id in the header, the problem body and the access log', async () => {
      const id = `client-${randomUUID()}`;
      const res = await t.api.get('/api/v1/no-such-thing').set('x-request-id', id);
      expectProblem(res, 404);
      expect(res.headers['x-request-id']).toBe(id);
      expect(res.body.requestId).toBe(id);
      const [line] = await accessLines(id);
      expect(line).toEqual(expect.objectContaining({ reqId: id, status: 404 }));
    });

    it('echoes a sane caller id on a 2xx', async () => {
      const id = 'trace.1234:abcd_EF-9';
      const res = await t.api.get('/health/live').set('x-request-id', id);
      expect(res.status).toBe(200);
      expect(res.headers['x-request-id']).toBe(id);
    });

    it.each([
      ['300 characters', 'a'.repeat(300)],
      ['spaces', 'has spaces in it'],
      ['markup', '<script>alert(1)</script>'],
      ['a quote', 'abc"def'],
    ])('replaces a caller id with %s by a UUID', async (_what, garbage) => {
      const res = await t.api.get('/api/v1/tasks').set('x-request-id', garbage);
      expectProblem(res, 401);
      expect(res.headers['x-request-id']).toMatch(UUID);
      expect(res.body.requestId).toBe(res.headers['x-request-id']);
      expect(await accessLines(res.headers['x-request-id'])).toHaveLength(1);
      expect(t.logs.some((line) => line.raw.includes(garbage))).toBe(false);
    });

    it('gives distinct ids to requests that send none', async () => {
      const [a, b] = await Promise.all([t.api.get('/health/live'), t.api.get('/health/live')]);
      expect(a.status).toBe(200);
      expect(b.status).toBe(200);
      expect(a.headers['x-request-id']).toMatch(UUID);
      expect(b.headers['x-request-id']).toMatch(UUID);
      expect(a.headers['x-request-id']).not.toBe(b.headers['x-request-id']);
    });

    it.each([
      ['get', '/health/live', 200],
      ['get', '/health/ready', 200],
      ['get', '/docs', 200],
      ['get', '/docs-json', 200],
      ['get', '/api/v1/users/me', 200],
      ['get', '/api/v1/tasks', 200],
    ] as const)('is on every response: %s %s', async (method, path, status) => {
      const res = await t.api[method](path).auth(alice.accessToken, { type: 'bearer' });
      expect(res.status).toBe(status);
      expect(res.headers['x-request-id']).toMatch(UUID);
    });
  });

  describe('internal errors', () => {
    it('answers 500 without a stack trace, SQL or driver message', async () => {
      // A table that vanished under the service is a failure no client can cause or fix: a plain 500.
      await t.db.pool.query('ALTER TABLE tasks RENAME TO tasks_hidden_by_test');
      try {
        const id = `broken-${randomUUID()}`;
        const res = await t.api
          .get('/api/v1/tasks')
          .auth(alice.accessToken, { type: 'bearer' })
          .set('x-request-id', id);
        expectProblem(res, 500, '/api/v1/tasks');
        expect(Object.keys(res.body).sort()).toEqual(['detail', 'instance', 'requestId', 'status', 'title', 'type']);
        const text = res.text;
        for (const leak of ['SELECT', 'FROM', 'relation', 'QueryFailedError', 'node_modules', '    at ', 'dist/']) {
          expect(text).not.toContain(leak);
        }
        // The details go to the log, tied to the same request id.
        const logged = await waitFor(
          () => t.logs.find((line) => line.requestId === id && line.level === 50),
          5_000,
          'the error log line',
        );
        expect(JSON.stringify(logged)).toContain('tasks');
      } finally {
        await t.db.pool.query('ALTER TABLE tasks_hidden_by_test RENAME TO tasks');
      }
      const after = await t.api.get('/api/v1/tasks').auth(alice.accessToken, { type: 'bearer' });
      expect(after.status).toBe(200);
    });
  });

  describe('access log', () => {
    it('writes exactly one line per request with reqId, method, route template, status and duration', async () => {
      const task = await createTask().send({ title: 'logged' });
      expect(task.status).toBe(201);
      const id = `log-${randomUUID()}`;
      const res = await t.api
        .get(`/api/v1/tasks/${task.body.id}`)
        .auth(alice.accessToken, { type: 'bearer' })
        .set('x-request-id', id);
      expect(res.status).toBe(200);

      const lines = await accessLines(id);
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

      const lines = await accessLines(id);
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
      await accessLines(res.headers['x-request-id']);
      const token = alice.accessToken;
      expect(t.logs.filter((line) => line.raw.includes(token))).toEqual([]);
      expect(t.logs.filter((line) => line.raw.includes(bogus.slice(7)))).toEqual([]);
    });
  });

  /** Access-log lines for a request id, waited for, then given a moment for any duplicate to show up. */
  async function accessLines(id: string): Promise<LogLine[]> {
    const ofRequest = () => t.logs.filter((line) => line.reqId === id);
    await waitFor(() => ofRequest().length > 0, 5_000, `the access log line of ${id}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
    return ofRequest();
  }
});
