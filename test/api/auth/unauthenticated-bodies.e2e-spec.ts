import { startTestApp, type TestApp } from '../../support/app';
import { claimsOf, expectUnauthorized, registerUser, type Account } from '../../support/auth';
import { expectProblem } from '../../support/http';

jest.setTimeout(60_000);

const TASK = '0193d6c2-7d4e-7c1a-9f1e-3c2b1a0f9e8d';

// Fastify reads and parses a body before Nest's guards run: authentication has to be decided before that.
describe('a protected route without a valid token answers 401 whatever the body', () => {
  let t: TestApp;
  let alice: Account;

  beforeAll(async () => {
    t = await startTestApp();
    alice = await registerUser(t.api, { email: 'alice.bodies@example.com' });
  });
  afterAll(() => t.close());

  const taskCount = async () => Number((await t.db.pool.query('SELECT count(*) AS n FROM tasks')).rows[0].n);

  const BODIES: [string, string, string][] = [
    ['malformed JSON', 'application/json', '{"title": '],
    ['an empty JSON body', 'application/json', ''],
    ['an unknown field', 'application/json', '{"title": "x", "owner": "someone"}'],
    ['an invalid field', 'application/json', '{"title": 42}'],
    ['a body nested too deep', 'application/json', `${'{"a":'.repeat(40)}1${'}'.repeat(40)}`],
    ['a text/plain body (415 with a token)', 'text/plain', 'title=x'],
    ['a body over 64 KiB (413 with a token)', 'application/json', JSON.stringify({ title: 'x'.repeat(70_000) })],
  ];

  const ROUTES: [string, 'post' | 'patch' | 'put', string][] = [
    ['create a task', 'post', '/api/v1/tasks'],
    ['update a task', 'patch', `/api/v1/tasks/${TASK}`],
    ['change the password', 'put', '/api/v1/users/me/password'],
    ['update the account', 'patch', '/api/v1/users/me'],
  ];

  describe.each(ROUTES)('%s (%s %s)', (_name, method, path) => {
    it.each(BODIES)('without a token, with %s: 401', async (_body, type, body) => {
      const res = await t.api[method](path).set('content-type', type).send(body);
      expectUnauthorized(res);
      expect(res.body.detail).toBe('A bearer access token is required');
    });

    it.each(BODIES)('with a forged token, with %s: 401', async (_body, type, body) => {
      const res = await t.api[method](path).auth('not.a.jwt', { type: 'bearer' }).set('content-type', type).send(body);
      expectUnauthorized(res);
      expect(res.body.detail).toBe('The access token is invalid');
    });
  });

  it('answers an ended session 401 before reading the body, and creates nothing', async () => {
    const bob = await registerUser(t.api, { email: 'bob.bodies@example.com' });
    await t.db.pool.query('UPDATE sessions SET revoked_at = now() WHERE id = $1', [claimsOf(bob.accessToken).sid]);
    for (const [, type, body] of BODIES) {
      const res = await t.api
        .post('/api/v1/tasks')
        .auth(bob.accessToken, { type: 'bearer' })
        .set('content-type', type)
        .send(body);
      expectUnauthorized(res);
      expect(res.body.detail).toBe('The session has ended; sign in again');
    }
    expect(await taskCount()).toBe(0);
  });

  it('still judges the body of an authenticated request: 400, 415, 413', async () => {
    const send = (type: string, body: string) =>
      t.api.post('/api/v1/tasks').auth(alice.accessToken, { type: 'bearer' }).set('content-type', type).send(body);
    expectProblem(await send('application/json', '{"title": '), 400, '/api/v1/tasks');
    expectProblem(await send('text/plain', 'title=x'), 415, '/api/v1/tasks');
    expectProblem(await send('application/json', JSON.stringify({ title: 'x'.repeat(70_000) })), 413, '/api/v1/tasks');
    expect(await taskCount()).toBe(0);
  });

  it('still judges the body of a public route without a token: 400', async () => {
    const res = await t.api.post('/api/v1/auth/login').set('content-type', 'application/json').send('{"email": ');
    expectProblem(res, 400, '/api/v1/auth/login');
  });
});
