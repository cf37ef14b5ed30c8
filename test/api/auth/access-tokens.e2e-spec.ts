import { createHmac } from 'node:crypto';
import type { Test } from 'supertest';
import { startTestApp, TEST_JWT_SECRET, type TestApp } from '../../support/app';

const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');

function sign(header: object, claims: object, secret = TEST_JWT_SECRET, algorithm = 'sha256'): string {
  const unsigned = `${b64(header)}.${b64(claims)}`;
  return `${unsigned}.${createHmac(algorithm, secret).update(unsigned).digest('base64url')}`;
}

describe('access tokens', () => {
  let t: TestApp;
  let token: string;
  let claims: Record<string, unknown>;

  beforeAll(async () => {
    t = await startTestApp();
    const res = await t.api
      .post('/api/v1/auth/register')
      .send({ email: 'tokens@example.com', password: 'correct horse battery', name: 'Tok' });
    expect(res.status).toBe(201);
    token = res.body.accessToken as string;
    claims = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()) as Record<string, unknown>;
  });
  afterAll(() => t.close());

  const list = (bearer: string) => t.api.get('/api/v1/tasks').auth(bearer, { type: 'bearer' });

  it('accepts the HS256 token it issued, and one signed the same way with the same secret', async () => {
    expect((await list(token)).status).toBe(200);
    expect((await list(sign({ alg: 'HS256', typ: 'JWT' }, claims))).status).toBe(200);
  });

  it.each([
    ['alg none', () => `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.`],
    ['HS512 with the same secret', () => sign({ alg: 'HS512', typ: 'JWT' }, claims, TEST_JWT_SECRET, 'sha512')],
    ['another secret', () => sign({ alg: 'HS256', typ: 'JWT' }, claims, 'another-secret-that-is-long-enough-0123')],
    ['an edited payload', () => `${token.split('.')[0]}.${b64({ ...claims, sub: claims.sid })}.${token.split('.')[2]}`],
    ['another audience', () => sign({ alg: 'HS256', typ: 'JWT' }, { ...claims, aud: 'someone-else' })],
  ])('rejects a token with %s', async (_name, forge) => {
    const res = await list(forge());
    expect(res.status).toBe(401);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.body.detail).toBe('The access token is invalid');
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
    }
    for (const header of [undefined, `Basic ${Buffer.from('ada:pw').toString('base64')}`, `Token ${token}`, token]) {
      const res = await withHeader(header);
      answers[String(header).replace(token, '<token>').slice(0, 20)] = [res.status, res.body.detail];
    }
    const required = 'A bearer access token is required';
    expect(answers).toEqual({
      'Bearer <token>': [200, undefined],
      'bearer <token>': [200, undefined],
      'BEARER  <token>': [200, undefined],
      'Bearer <token> extra': [401, 'The access token is invalid'],
      Bearer: [401, required],
      undefined: [401, required],
      'Basic YWRhOnB3': [401, required],
      'Token <token>': [401, required],
      '<token>': [401, required],
    });
  });

  it('rejects an expired token as expired', async () => {
    const past = Math.floor(Date.now() / 1000) - 60;
    const res = await list(sign({ alg: 'HS256', typ: 'JWT' }, { ...claims, iat: past - 900, exp: past }));
    expect(res.status).toBe(401);
    expect(res.body.detail).toBe('The access token has expired');
  });

  it('rejects the token of a session that logged out on the very next request', async () => {
    const login = await t.api
      .post('/api/v1/auth/login')
      .send({ email: 'tokens@example.com', password: 'correct horse battery' });
    const second = login.body.accessToken as string;
    expect((await list(second)).status).toBe(200);
    expect((await t.api.post('/api/v1/auth/logout').auth(second, { type: 'bearer' })).status).toBe(204);
    const res = await list(second);
    expect(res.status).toBe(401);
    expect(res.body.detail).toBe('The session has ended; sign in again');
    expect((await list(token)).status).toBe(200);
  });

  // Every task route checks the session inside its own statement (writes included); every answer must be
  // the one the guard's separate check gives on the other routes, and an ended session changes nothing.
  describe('on the routes whose statement checks the session itself', () => {
    const ENDED = 'The session has ended; sign in again';
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
        const sid = JSON.parse(Buffer.from(session.split('.')[1], 'base64url').toString()).sid as string;
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
        // The same answer as a route the guard checks.
        expect((await as(session, t.api.get('/api/v1/users/me'))).body.detail).toBe(ENDED);
      },
    );

    it("answers 401 to a validly signed token that pairs this user with another user's session", async () => {
      const other = await t.api
        .post('/api/v1/auth/register')
        .send({ email: `other-${Date.now()}@example.com`, password: 'correct horse battery', name: 'Other' });
      expect(other.status).toBe(201);
      const mine = JSON.parse(Buffer.from(session.split('.')[1], 'base64url').toString()) as Record<string, unknown>;
      const theirs = JSON.parse(Buffer.from((other.body.accessToken as string).split('.')[1], 'base64url').toString());
      const crossed = sign({ alg: 'HS256', typ: 'JWT' }, { ...mine, sid: theirs.sid });
      const before = await stored();
      for (const [name, request] of REQUESTS) {
        expect({ name, status: (await request(crossed)).status }).toEqual({ name, status: 401 });
      }
      expect(await stored()).toEqual(before);
    });
  });
});
