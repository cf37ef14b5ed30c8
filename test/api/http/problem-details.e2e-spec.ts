import { randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import { startTestApp, type TestApp } from '../../support/app';
import { registerUser, type Account } from '../../support/auth';
import { expectProblem, waitFor } from '../../support/http';

// jest.config.js sets testTimeout on the e2e project, where Jest ignores it (it reads only the top-level
// option), so hooks and tests would get 5 s: too little for starting services under a parallel run.
jest.setTimeout(60_000);

// Bearer-token errors are in test/api/auth/access-tokens.e2e-spec.ts, X-Request-Id in request-id.e2e-spec.ts,
// 404, 405 and query parameters in routing.e2e-spec.ts.
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

    it.each([
      ['a missing title', {}, 'title is required'],
      ['a number as title', { title: 5 }, 'title must be a string'],
      ['an empty title', { title: '  ' }, 'title must be longer than or equal to 1 characters'],
      [
        'a number as priority',
        { title: 'x', priority: 1 },
        'priority must be one of the following values: low, medium, high',
      ],
    ])('answers %s with the rule it broke, not another', async (_label, body, message) => {
      const res = await createTask().send(body);
      expectProblem(res, 400, '/api/v1/tasks');
      expect(res.body.errors).toEqual([{ field: expect.any(String), message }]);
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
});
