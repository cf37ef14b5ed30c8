import type { Response } from 'supertest';
import { startTestApp, type TestApp } from '../../support/app';
import {
  API,
  claimsOf,
  expectProblem,
  NO_THROTTLING,
  registerUser,
  sessionsOf,
  uniqueEmail,
  type Account,
} from '../../support/auth';

const PASSWORD = 'correct horse battery staple';
const USER_AGENT = 'auth-e2e/1.0';

let t: TestApp;

beforeAll(async () => {
  t = await startTestApp({ env: NO_THROTTLING });
});
afterAll(() => t.close());

const signIn = (body: unknown) =>
  t.api
    .post(`${API}/auth/login`)
    .set('User-Agent', USER_AGENT)
    .send(body as object);
const me = (accessToken: string) => t.api.get(`${API}/users/me`).auth(accessToken, { type: 'bearer' });

describe('POST /auth/login', () => {
  let ada: Account;

  beforeAll(async () => {
    ada = await registerUser(t.api, { email: uniqueEmail('ada'), password: PASSWORD, name: 'Ada' });
  });

  it('opens a new session and answers like register, whatever the case and spacing of the email', async () => {
    const before = await sessionsOf(t.db.pool, ada.user.id);
    const res = await signIn({ email: `  ${ada.user.email.toUpperCase()} `, password: PASSWORD });

    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      user: ada.user,
      accessToken: expect.any(String),
      refreshToken: expect.any(String),
      tokenType: 'Bearer',
      expiresIn: 900,
    });
    expect(res.body.accessToken).not.toBe(ada.accessToken);
    expect(res.body.refreshToken).not.toBe(ada.refreshToken);

    const after = await sessionsOf(t.db.pool, ada.user.id);
    expect(after).toHaveLength(before.length + 1);
    const opened = after.find((s) => !before.some((b) => b.id === s.id))!;
    expect(opened).toEqual(expect.objectContaining({ revoked_at: null, user_agent: USER_AGENT }));
    expect(Object.values(claimsOf(res.body.accessToken))).toContain(opened.id);
    expect((await me(res.body.accessToken)).status).toBe(200);
  });

  it('gives one identical 401 for an unknown email and for a wrong password, opening no session', async () => {
    const before = await sessionsOf(t.db.pool, ada.user.id);
    const unknown = await signIn({ email: uniqueEmail('nobody'), password: PASSWORD });
    const wrong = await signIn({ email: ada.user.email, password: 'not the password' });

    expectProblem(unknown, 401);
    expectProblem(wrong, 401);
    expect(wrong.body.detail).toBe(unknown.body.detail);
    expect({ ...wrong.body, requestId: undefined }).toEqual({ ...unknown.body, requestId: undefined });
    expect(wrong.headers['www-authenticate']).toBe(unknown.headers['www-authenticate']);
    expect(await sessionsOf(t.db.pool, ada.user.id)).toEqual(before);
  });

  it.each([
    ['a missing password', { password: undefined }, 'password'],
    ['an empty password', { password: '' }, 'password'],
    ['a 129-character password', { password: 'x'.repeat(129) }, 'password'],
    ['a missing email', { email: undefined }, 'email'],
    ['an invalid email', { email: 'ada-at-example.com' }, 'email'],
    ['an unknown field', { remember: true }, 'remember'],
  ])('rejects %s with 400', async (_label, change, field) => {
    const res = await signIn({ email: ada.user.email, password: PASSWORD, ...change });
    expectProblem(res, 400);
    expect(res.body.errors).toEqual([{ field, message: expect.any(String) }]);
  });

  it.each([
    ['an array', '[]'],
    ['a string', '"ada@example.com"'],
    ['null', 'null'],
  ])('rejects %s as the body with 400', async (_label, raw) => {
    const res = await t.api.post(`${API}/auth/login`).set('Content-Type', 'application/json').send(raw);
    expectProblem(res, 400);
    expect(res.body.errors).toEqual(
      expect.arrayContaining([{ field: expect.any(String), message: expect.any(String) }]),
    );
  });
});

describe('POST /auth/login rate limits', () => {
  // Checked last in each test, so a missing header does not hide the rest of the behaviour.
  function expectRetryAfter(res: Response, windowS: number): void {
    expect(res.headers['retry-after']).toMatch(/^\d+$/);
    expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
    expect(Number(res.headers['retry-after'])).toBeLessThanOrEqual(windowS);
  }

  describe('per email (THROTTLE_LOGIN_PER_EMAIL=3/60)', () => {
    let limited: TestApp;
    const attempt = (email: string, password: string) =>
      limited.api.post(`${API}/auth/login`).send({ email, password });

    beforeAll(async () => {
      limited = await startTestApp({ env: { ...NO_THROTTLING, THROTTLE_LOGIN_PER_EMAIL: '3/60' } });
    });
    afterAll(() => limited.close());

    it('answers 429 with Retry-After once one email has failed too often, even for the right password in any case', async () => {
      const ada = await registerUser(limited.api);
      const before = await sessionsOf(limited.db.pool, ada.user.id);

      for (let i = 0; i < 3; i++) expectProblem(await attempt(ada.user.email, 'wrong password'), 401);
      const blocked = [
        await attempt(ada.user.email, 'wrong password'),
        await attempt(ada.user.email, ada.password),
        await attempt(` ${ada.user.email.toUpperCase()}`, ada.password),
      ];

      for (const res of blocked) expectProblem(res, 429);
      expect(await sessionsOf(limited.db.pool, ada.user.id)).toEqual(before);
      const bob = await registerUser(limited.api);
      expect((await attempt(bob.user.email, bob.password)).status).toBe(200);
      for (const res of blocked) expectRetryAfter(res, 60);
    });

    it('counts only failures: signing in successfully is never throttled by the per-email limit', async () => {
      const ada = await registerUser(limited.api);

      for (let i = 0; i < 4; i++) expect((await attempt(ada.user.email, ada.password)).status).toBe(200);
      expect(await sessionsOf(limited.db.pool, ada.user.id)).toHaveLength(5);
    });
  });

  describe('per address (THROTTLE_LOGIN_PER_IP=3/60)', () => {
    let limited: TestApp;
    const attempt = (email: string, password: string) =>
      limited.api.post(`${API}/auth/login`).send({ email, password });

    beforeAll(async () => {
      limited = await startTestApp({ env: { ...NO_THROTTLING, THROTTLE_LOGIN_PER_IP: '3/60' } });
    });
    afterAll(() => limited.close());

    it('answers 429 with Retry-After once one address has failed too often, whatever the email', async () => {
      const ada = await registerUser(limited.api);

      for (let i = 0; i < 3; i++) expectProblem(await attempt(uniqueEmail('guess'), 'wrong password'), 401);
      const blocked = [
        await attempt(uniqueEmail('guess'), 'wrong password'),
        await attempt(ada.user.email, ada.password),
      ];

      for (const res of blocked) expectProblem(res, 429);
      expect(await sessionsOf(limited.db.pool, ada.user.id)).toHaveLength(1);
      for (const res of blocked) expectRetryAfter(res, 60);
    });
  });
});
