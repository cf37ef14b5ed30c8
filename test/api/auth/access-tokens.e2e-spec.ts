import { randomUUID } from 'node:crypto';
import type { Test } from 'supertest';
import { startTestApp, type TestApp } from '../../support/app';
import {
  base64url,
  claimsOf,
  expectUnauthorized,
  NO_THROTTLING,
  nowS,
  registerUser,
  signJwt,
  type Account,
  type Claims,
} from '../../support/auth';

const INVALID = 'The access token is invalid';
const MALFORMED = 'The access token is malformed';
const REQUIRED = 'A bearer access token is required';
const ENDED = 'The session has ended; sign in again';

/** The claims without `key`. */
function without(claims: Claims, key: string): Record<string, unknown> {
  const { [key]: _dropped, ...rest } = claims;
  return rest;
}

describe('access tokens', () => {
  let t: TestApp;
  let token: string;
  let claims: Claims;
  let bob: Account;

  beforeAll(async () => {
    t = await startTestApp({ env: NO_THROTTLING });
    const res = await t.api
      .post('/api/v1/auth/register')
      .send({ email: 'tokens@example.com', password: 'correct horse battery', name: 'Tok' });
    expect(res.status).toBe(201);
    token = res.body.accessToken as string;
    claims = claimsOf(token);
    bob = await registerUser(t.api);
  });
  afterAll(() => t.close());

  const list = (bearer: string) => t.api.get('/api/v1/tasks').auth(bearer, { type: 'bearer' });
  const me = (bearer: string) => t.api.get('/api/v1/users/me').auth(bearer, { type: 'bearer' });
  /** The genuine token with its header or payload replaced, keeping the original signature. */
  const resealed = (part: 0 | 1, value: object) =>
    token
      .split('.')
      .map((segment, i) => (i === part ? base64url(value) : segment))
      .join('.');

  it('accepts the HS256 token it issued, and one signed the same way with the same secret', async () => {
    expect((await list(token)).status).toBe(200);
    expect((await list(signJwt({ ...claims, iat: nowS(), exp: nowS() + 300 }))).status).toBe(200);
  });

  // Each differs from a genuine token in one respect; the session checks (another user's session, an ended
  // one) are below, on every task route.
  it.each<[string, () => string, string]>([
    ['alg none', () => signJwt(claims, { alg: 'none' }), INVALID],
    ['alg none, keeping the original signature', () => resealed(0, { alg: 'none', typ: 'JWT' }), INVALID],
    ['an RS256 header over the HS256 signature', () => resealed(0, { alg: 'RS256', typ: 'JWT' }), INVALID],
    ['HS512 with the same secret', () => signJwt(claims, { alg: 'HS512' }), INVALID],
    ['another secret', () => signJwt(claims, { secret: 'another-secret-that-is-long-enough-0123' }), INVALID],
    ['an edited payload under the original signature', () => resealed(1, { ...claims, sub: bob.user.id }), INVALID],
    ['another audience', () => signJwt({ ...claims, aud: 'someone-else' }), INVALID],
    ['no audience', () => signJwt(without(claims, 'aud')), INVALID],
    ['another issuer', () => signJwt({ ...claims, iss: 'someone-else' }), INVALID],
    ['no issuer', () => signJwt(without(claims, 'iss')), INVALID],
    ['a not-before in the future', () => signJwt({ ...claims, nbf: nowS() + 3600 }), INVALID],
    ['garbage', () => 'garbage', INVALID],
    ['a sub that is not a UUID', () => signJwt({ ...claims, sub: 'admin' }), MALFORMED],
    ['no sub', () => signJwt(without(claims, 'sub')), MALFORMED],
    ['no sid', () => signJwt(without(claims, 'sid')), MALFORMED],
    ["another user's sub with my session", () => signJwt({ ...claims, sub: bob.user.id }), ENDED],
    ['a session that never existed', () => signJwt({ ...claims, sid: randomUUID() }), ENDED],
  ])('rejects a token with %s: 401 problem+json with a Bearer challenge', async (_name, forge, detail) => {
    const forged = forge();
    const res = await list(forged);
    expectUnauthorized(res);
    expect(res.body.detail).toBe(detail);
    // Neither the token nor whose it might be comes back.
    expect(res.text).not.toContain(forged);
    expect(res.text).not.toContain('tokens@example.com');
  });

  it('reads the token from "Authorization: Bearer <token>" only (RFC 6750; the scheme in any case)', async () => {
    const withHeader = (value?: string) => {
      const test = t.api.get('/api/v1/tasks');
      return value === undefined ? test : test.set('authorization', value);
    };
    const answers: Record<string, [number, string | undefined]> = {};
    for (const header of [
      `Bearer ${token}`,
      `bearer ${token}`,
      `BEARER  ${token}`,
      `Bearer ${token} extra`,
      `Bearer`,
    ]) {
      const res = await withHeader(header);
      answers[header.replace(token, '<token>')] = [res.status, res.body.detail];
      if (res.status === 401) expectUnauthorized(res);
    }
    for (const header of [
      undefined,
      `Basic ${Buffer.from('ada:pw').toString('base64')}`,
      `Token ${token}`,
      token,
      `bearer${token}`,
    ]) {
      const res = await withHeader(header);
      answers[String(header).replace(token, '<token>').slice(0, 20)] = [res.status, res.body.detail];
      expectUnauthorized(res);
    }
    expect(answers).toEqual({
      'Bearer <token>': [200, undefined],
      'bearer <token>': [200, undefined],
      'BEARER  <token>': [200, undefined],
      'Bearer <token> extra': [401, INVALID],
      Bearer: [401, REQUIRED],
      undefined: [401, REQUIRED],
      'Basic YWRhOnB3': [401, REQUIRED],
      'Token <token>': [401, REQUIRED],
      '<token>': [401, REQUIRED],
      'bearer<token>': [401, REQUIRED],
    });
  });

  it('rejects an expired token as expired', async () => {
    const past = nowS() - 60;
    const res = await list(signJwt({ ...claims, iat: past - 900, exp: past }));
    expectUnauthorized(res);
    expect(res.body.detail).toBe('The access token has expired');
  });

  it("never lets bob's token act for tokens@ or tokens@'s for bob", async () => {
    expect((await me(token)).body.email).toBe('tokens@example.com');
    expect((await me(bob.accessToken)).body.id).toBe(bob.user.id);
  });

  // The session behind a token is checked on every request: an ended or foreign one gets 401 before any
  // 400, 404 or 412, reads and writes alike, and changes nothing.
  describe('on every task route', () => {
    const ABSENT = '0193d6c2-7d4e-7c1a-9f1e-3c2b1a0f9e8d';
    let session: string;
    let taskId: string;

    type Call = (bearer: string) => Test;
    const as = (bearer: string, test: Test) => test.auth(bearer, { type: 'bearer' });
    const REQUESTS: [string, Call, number][] = [
      ['the list', (b) => as(b, t.api.get('/api/v1/tasks')), 200],
      ['a search', (b) => as(b, t.api.get('/api/v1/tasks?q=report&completed=false')), 200],
      ['the stats', (b) => as(b, t.api.get('/api/v1/tasks/stats')), 200],
      ['an existing task', (b) => as(b, t.api.get(`/api/v1/tasks/${taskId}`)), 200],
      ['an absent task', (b) => as(b, t.api.get(`/api/v1/tasks/${ABSENT}`)), 404],
      ['an id that is not a UUID', (b) => as(b, t.api.get('/api/v1/tasks/not-a-uuid')), 400],
      ['a limit out of range', (b) => as(b, t.api.get('/api/v1/tasks?limit=0')), 400],
      ['an unknown query parameter', (b) => as(b, t.api.get('/api/v1/tasks?colour=red')), 400],
      ['a forged cursor', (b) => as(b, t.api.get('/api/v1/tasks?cursor=forged')), 400],
      ['a create', (b) => as(b, t.api.post('/api/v1/tasks')).send({ title: 'written by an ended session' }), 201],
      [
        'an idempotent create',
        (b) =>
          as(b, t.api.post('/api/v1/tasks'))
            .set('idempotency-key', `key-${Date.now()}-${Math.random()}`)
            .send({ title: 'written by an ended session' }),
        201,
      ],
      ['a create with an invalid body', (b) => as(b, t.api.post('/api/v1/tasks')).send({ title: 7 }), 400],
      ['an update', (b) => as(b, t.api.patch(`/api/v1/tasks/${taskId}`)).send({ title: 'renamed' }), 200],
      ['an update with an empty body', (b) => as(b, t.api.patch(`/api/v1/tasks/${taskId}`)).send({}), 400],
      [
        'an update with a stale If-Match',
        (b) =>
          as(b, t.api.patch(`/api/v1/tasks/${taskId}`))
            .set('if-match', '"999"')
            .send({ priority: 'low' }),
        412,
      ],
      ['an update of an absent task', (b) => as(b, t.api.patch(`/api/v1/tasks/${ABSENT}`)).send({ title: 'x' }), 404],
      ['a toggle', (b) => as(b, t.api.post(`/api/v1/tasks/${taskId}/toggle`)), 200],
      ['a delete of an absent task', (b) => as(b, t.api.delete(`/api/v1/tasks/${ABSENT}`)), 404],
      ['a delete', (b) => as(b, t.api.delete(`/api/v1/tasks/${taskId}`)), 204],
    ];

    /** The user's tasks as stored: nothing about them may change for an ended session. */
    const stored = async () =>
      (
        await t.db.pool.query(
          `SELECT t.id, t.title, t.priority, t.completed, t.version FROM tasks t JOIN users u ON u.id = t.user_id
            WHERE u.email = 'tokens@example.com' ORDER BY t.id`,
        )
      ).rows;

    beforeEach(async () => {
      const login = await t.api
        .post('/api/v1/auth/login')
        .send({ email: 'tokens@example.com', password: 'correct horse battery' });
      expect(login.status).toBe(200);
      session = login.body.accessToken as string;
      const task = await t.api.post('/api/v1/tasks').auth(session, { type: 'bearer' }).send({ title: 'report' });
      expect(task.status).toBe(201);
      taskId = task.body.id as string;
    });

    it('answers a live session as usual: data, 201, 204, 400, 404 and 412', async () => {
      const statuses = [];
      for (const [, request] of REQUESTS) statuses.push((await request(session)).status);
      expect(statuses).toEqual(REQUESTS.map(([, , status]) => status));
      const gone = await t.db.pool.query('SELECT 1 FROM tasks WHERE id = $1', [taskId]);
      expect(gone.rowCount).toBe(0);
    });

    it.each([
      ['logged out', (sid: string) => t.db.pool.query('UPDATE sessions SET revoked_at = now() WHERE id = $1', [sid])],
      [
        'expired',
        (sid: string) =>
          t.db.pool.query(`UPDATE sessions SET expires_at = now() - interval '1 second' WHERE id = $1`, [sid]),
      ],
      ['deleted', (sid: string) => t.db.pool.query('DELETE FROM sessions WHERE id = $1', [sid])],
    ])(
      'answers 401 to every request of a session that was %s, before any 400, 404 or 412, and changes nothing',
      async (_name, end) => {
        const { sid } = claimsOf(session);
        await end(sid);
        const before = await stored();
        for (const [name, request] of REQUESTS) {
          const res = await request(session);
          expect({
            name,
            status: res.status,
            type: res.headers['content-type'],
            challenge: res.headers['www-authenticate'],
            etag: res.headers.etag,
            location: res.headers.location,
            detail: res.body.detail,
          }).toEqual({
            name,
            status: 401,
            type: expect.stringContaining('application/problem+json'),
            challenge: expect.stringContaining('Bearer'),
            etag: undefined,
            location: undefined,
            detail: ENDED,
          });
        }
        expect(await stored()).toEqual(before);
        // The same answer as on the other routes.
        expect((await as(session, t.api.get('/api/v1/users/me'))).body.detail).toBe(ENDED);
      },
    );

    it("answers 401 to a validly signed token that pairs this user with another user's session", async () => {
      const other = await t.api
        .post('/api/v1/auth/register')
        .send({ email: `other-${Date.now()}@example.com`, password: 'correct horse battery', name: 'Other' });
      expect(other.status).toBe(201);
      const mine = claimsOf(session);
      const theirs = claimsOf(other.body.accessToken as string);
      const crossed = signJwt({ ...mine, sid: theirs.sid });
      const before = await stored();
      for (const [name, request] of REQUESTS) {
        expect({ name, status: (await request(crossed)).status }).toEqual({ name, status: 401 });
      }
      expect(await stored()).toEqual(before);
    });
  });
});
