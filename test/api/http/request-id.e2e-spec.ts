import { randomUUID } from 'node:crypto';
import { startTestApp, type TestApp } from '../../support/app';
import { registerUser, type Account } from '../../support/auth';
import { accessLines, expectProblem } from '../../support/http';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

jest.setTimeout(60_000);

describe('request ids', () => {
  let t: TestApp;
  let alice: Account;

  beforeAll(async () => {
    t = await startTestApp();
    alice = await registerUser(t.api, { email: 'alice.request-id@example.com' });
  });
  afterAll(() => t.close());

  describe('X-Request-Id', () => {
    it('echoes a sane caller id in the header, the problem body and the access log', async () => {
      const id = `client-${randomUUID()}`;
      const res = await t.api.get('/api/v1/no-such-thing').set('x-request-id', id);
      expectProblem(res, 404);
      expect(res.headers['x-request-id']).toBe(id);
      expect(res.body.requestId).toBe(id);
      const [line] = await accessLines(t, id);
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
      expect(await accessLines(t, res.headers['x-request-id'])).toHaveLength(1);
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
});
