import { createHmac } from 'node:crypto';
import { startTestApp, TEST_JWT_SECRET, type TestApp } from './support/app';

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

  // GET /tasks and GET /tasks/:id check the session inside their own statement; every answer must be the
  // one the guard's separate check gives on the other routes.
  describe('on the routes whose statement checks the session itself', () => {
    const ENDED = 'The session has ended; sign in again';
    let session: string;
    let taskId: string;

    const get = (path: string, bearer = session) => t.api.get(path).auth(bearer, { type: 'bearer' });
    const REQUESTS: [string, () => string][] = [
      ['the list', () => '/api/v1/tasks'],
      ['a search', () => '/api/v1/tasks?q=report&completed=false'],
      ['an existing task', () => `/api/v1/tasks/${taskId}`],
      ['an absent task', () => '/api/v1/tasks/0193d6c2-7d4e-7c1a-9f1e-3c2b1a0f9e8d'],
      ['an id that is not a UUID', () => '/api/v1/tasks/not-a-uuid'],
      ['a limit out of range', () => '/api/v1/tasks?limit=0'],
      ['an unknown query parameter', () => '/api/v1/tasks?colour=red'],
      ['a forged cursor', () => '/api/v1/tasks?cursor=forged'],
    ];
    const LIVE = [200, 200, 200, 404, 400, 400, 400, 400];

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

    it('answers a live session as usual: data, 404 and 400', async () => {
      const statuses = [];
      for (const [, path] of REQUESTS) statuses.push((await get(path())).status);
      expect(statuses).toEqual(LIVE);
      const listed = await get('/api/v1/tasks?q=report');
      expect(listed.body.items.map((task: { id: string }) => task.id)).toContain(taskId);
    });

    it.each([
      ['logged out', (sid: string) => t.db.pool.query('UPDATE sessions SET revoked_at = now() WHERE id = $1', [sid])],
      [
        'expired',
        (sid: string) =>
          t.db.pool.query(`UPDATE sessions SET expires_at = now() - interval '1 second' WHERE id = $1`, [sid]),
      ],
      ['deleted', (sid: string) => t.db.pool.query('DELETE FROM sessions WHERE id = $1', [sid])],
    ])('answers 401 to every request of a session that was %s, before any 400 or 404', async (_name, end) => {
      const sid = JSON.parse(Buffer.from(session.split('.')[1], 'base64url').toString()).sid as string;
      await end(sid);
      for (const [name, path] of REQUESTS) {
        const res = await get(path());
        expect({
          name,
          status: res.status,
          type: res.headers['content-type'],
          challenge: res.headers['www-authenticate'],
          detail: res.body.detail,
        }).toEqual({
          name,
          status: 401,
          type: expect.stringContaining('application/problem+json'),
          challenge: expect.stringContaining('Bearer'),
          detail: ENDED,
        });
      }
      // The same answer as a route the guard checks.
      expect((await get('/api/v1/tasks/stats')).body.detail).toBe(ENDED);
    });

    it("answers 401 to a validly signed token that pairs this user with another user's session", async () => {
      const other = await t.api
        .post('/api/v1/auth/register')
        .send({ email: `other-${Date.now()}@example.com`, password: 'correct horse battery', name: 'Other' });
      expect(other.status).toBe(201);
      const mine = JSON.parse(Buffer.from(session.split('.')[1], 'base64url').toString()) as Record<string, unknown>;
      const theirs = JSON.parse(Buffer.from((other.body.accessToken as string).split('.')[1], 'base64url').toString());
      const crossed = sign({ alg: 'HS256', typ: 'JWT' }, { ...mine, sid: theirs.sid });
      for (const [name, path] of REQUESTS) {
        expect({ name, status: (await get(path(), crossed)).status }).toEqual({ name, status: 401 });
      }
    });
  });
});
