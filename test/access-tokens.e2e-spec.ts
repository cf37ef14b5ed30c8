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
});
