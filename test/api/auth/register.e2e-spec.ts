import { createHmac, randomUUID } from 'node:crypto';
import {
  API,
  expectProblem,
  expectUnauthorized,
  login,
  NO_THROTTLING,
  registerUser,
  sessionsOf,
  uniqueEmail,
  untilLogged,
  type Account,
} from '../../support/auth';
import type { Response } from 'supertest';
import { startTestApp, TEST_JWT_SECRET, type TestApp } from '../../support/app';

const PASSWORD = 'correct horse battery staple';
const USER_AGENT = 'auth-e2e/1.0';

type Claims = Record<string, unknown> & { sub: string; iat: number; exp: number };

function claimsOf(token: string): Claims {
  return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8')) as Claims;
}

function base64url(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** A JWT made by hand, so each attack differs from a genuine token in exactly one respect. */
function signJwt(
  claims: object,
  { secret = TEST_JWT_SECRET, alg = 'HS256' }: { secret?: string; alg?: 'HS256' | 'HS512' | 'none' } = {},
): string {
  const unsigned = `${base64url({ alg, typ: 'JWT' })}.${base64url(claims)}`;
  if (alg === 'none') return `${unsigned}.`;
  const digest = alg === 'HS256' ? 'sha256' : 'sha512';
  return `${unsigned}.${createHmac(digest, secret).update(unsigned).digest('base64url')}`;
}

const nowS = () => Math.floor(Date.now() / 1000);

describe('auth', () => {
  let t: TestApp;

  beforeAll(async () => {
    // Trace level: whatever the service would log at any level is in t.logs for the secrets check.
    t = await startTestApp({ env: { ...NO_THROTTLING, LOG_LEVEL: 'trace' } });
  });
  afterAll(() => t.close());

  const register = (body: unknown) =>
    t.api
      .post(`${API}/auth/register`)
      .set('User-Agent', USER_AGENT)
      .send(body as object);
  const signIn = (body: unknown) =>
    t.api
      .post(`${API}/auth/login`)
      .set('User-Agent', USER_AGENT)
      .send(body as object);
  const refresh = (refreshToken: unknown) => t.api.post(`${API}/auth/refresh`).send({ refreshToken });
  const me = (accessToken: string) => t.api.get(`${API}/users/me`).auth(accessToken, { type: 'bearer' });
  const userCount = async (email: string) =>
    Number(
      (await t.db.pool.query<{ n: string }>('SELECT count(*) AS n FROM users WHERE lower(email) = lower($1)', [email]))
        .rows[0].n,
    );
  const totalUsers = async () =>
    Number((await t.db.pool.query<{ n: string }>('SELECT count(*) AS n FROM users')).rows[0].n);

  describe('POST /auth/register', () => {
    it('creates the user with a trimmed, lower-cased email and trimmed name, and signs it in', async () => {
      const email = uniqueEmail('ada');
      const res = await register({ email: `  ${email.toUpperCase()}  `, password: PASSWORD, name: '  Ada Lovelace  ' });

      expect(res.status).toBe(201);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(res.body).toEqual({
        user: {
          id: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/),
          email,
          name: 'Ada Lovelace',
          createdAt: expect.any(String),
          updatedAt: expect.any(String),
        },
        accessToken: expect.any(String),
        refreshToken: expect.any(String),
        tokenType: 'Bearer',
        expiresIn: 900,
      });
      expect(new Date(res.body.user.createdAt).toISOString()).toBe(res.body.user.createdAt);
      expect(new Date(res.body.user.updatedAt).toISOString()).toBe(res.body.user.updatedAt);

      const { rows: users } = await t.db.pool.query(
        'SELECT id, email, name, created_at, updated_at FROM users WHERE id = $1',
        [res.body.user.id],
      );
      expect(users).toEqual([
        {
          id: res.body.user.id,
          email,
          name: 'Ada Lovelace',
          created_at: new Date(res.body.user.createdAt),
          updated_at: new Date(res.body.user.updatedAt),
        },
      ]);
      const sessions = await sessionsOf(t.db.pool, res.body.user.id);
      expect(sessions).toHaveLength(1);
      expect(sessions[0]).toEqual(
        expect.objectContaining({ revoked_at: null, user_agent: USER_AGENT, ip: '127.0.0.1' }),
      );
      const ttl = await t.db.pool.query<{ s: number }>(
        'SELECT extract(epoch FROM expires_at - created_at)::float8 AS s FROM sessions WHERE id = $1',
        [sessions[0].id],
      );
      expect(Math.abs(ttl.rows[0].s - 30 * 24 * 3600)).toBeLessThan(60);

      const claims = claimsOf(res.body.accessToken);
      expect(claims).toEqual(expect.objectContaining({ sub: res.body.user.id, iss: 'tasks-api', aud: 'tasks-api' }));
      expect(Object.values(claims)).toContain(sessions[0].id);
      expect(claims.exp - claims.iat).toBe(900);

      const profile = await me(res.body.accessToken);
      expect(profile.status).toBe(200);
      expect(profile.body).toEqual(res.body.user);
    });

    it.each([
      ['8 characters', 'x'.repeat(8)],
      ['128 characters', 'x'.repeat(128)],
    ])('accepts a password of %s', async (_label, password) => {
      const email = uniqueEmail();
      const res = await register({ email, password, name: 'Boundary' });
      expect(res.status).toBe(201);
      expect(await userCount(email)).toBe(1);
    });

    it.each([
      ['a 7-character password', { password: 'x'.repeat(7) }, 'password'],
      ['a 129-character password', { password: 'x'.repeat(129) }, 'password'],
      ['an email without @', { email: 'not-an-email' }, 'email'],
      ['an email without a domain', { email: 'ada@' }, 'email'],
      ['an email without a local part', { email: '@example.com' }, 'email'],
      ['an empty email', { email: '' }, 'email'],
      [
        'an email over 254 characters',
        { email: `${'a'.repeat(64)}@${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(63)}.com` },
        'email',
      ],
      ['an empty name', { name: '' }, 'name'],
      ['a name of only spaces', { name: '   ' }, 'name'],
      ['a 101-character name', { name: 'n'.repeat(101) }, 'name'],
      ['a number as email', { email: 42 }, 'email'],
      ['a number as password', { password: 12345678 }, 'password'],
      ['an array as name', { name: ['Ada'] }, 'name'],
      ['a boolean as name', { name: true }, 'name'],
      ['null as password', { password: null }, 'password'],
      ['a missing email', { email: undefined }, 'email'],
      ['a missing password', { password: undefined }, 'password'],
      ['a missing name', { name: undefined }, 'name'],
      ['an unknown field', { role: 'admin' }, 'role'],
    ])('rejects %s with 400 naming the field, creating nothing', async (_label, change, field) => {
      const before = await totalUsers();
      const res = await register({ email: uniqueEmail(), password: PASSWORD, name: 'Invalid', ...change });

      expectProblem(res, 400);
      expect(res.body.errors).toEqual([{ field, message: expect.any(String) }]);
      expect(await totalUsers()).toBe(before);
    });

    it('names every missing field of an empty object', async () => {
      const res = await register({});
      expectProblem(res, 400);
      expect(res.body.errors.map((e: { field: string }) => e.field).sort()).toEqual(['email', 'name', 'password']);
      for (const error of res.body.errors)
        expect(error).toEqual({ field: expect.any(String), message: expect.any(String) });
    });

    it.each([
      ['an array', '[]'],
      ['an array of the right object', JSON.stringify([{ email: 'x@example.com', password: PASSWORD, name: 'X' }])],
      ['a string', '"ada@example.com"'],
      ['a number', '42'],
      ['null', 'null'],
    ])('rejects %s as the body with 400', async (_label, raw) => {
      const before = await totalUsers();
      const res = await t.api.post(`${API}/auth/register`).set('Content-Type', 'application/json').send(raw);

      expectProblem(res, 400);
      expect(res.body.errors).toEqual(
        expect.arrayContaining([{ field: expect.any(String), message: expect.any(String) }]),
      );
      expect(await totalUsers()).toBe(before);
    });

    it('rejects malformed JSON with 400', async () => {
      const res = await t.api.post(`${API}/auth/register`).set('Content-Type', 'application/json').send('{"email":');
      expectProblem(res, 400);
    });

    it('answers 409 for an email that exists in another letter case, leaving one account and one session', async () => {
      const first = await registerUser(t.api);
      const res = await register({
        email: ` ${first.user.email.toUpperCase()} `,
        password: 'another password',
        name: 'Twin',
      });

      expectProblem(res, 409);
      expect(await userCount(first.user.email)).toBe(1);
      expect(await sessionsOf(t.db.pool, first.user.id)).toHaveLength(1);
      const { rows } = await t.db.pool.query('SELECT name FROM users WHERE id = $1', [first.user.id]);
      expect(rows).toEqual([{ name: 'Test User' }]);
    });

    it('creates one account when the same email is registered twice at once; the other request gets 409', async () => {
      const email = uniqueEmail('race');
      const results = await Promise.all([
        register({ email, password: PASSWORD, name: 'First' }),
        register({ email: email.toUpperCase(), password: PASSWORD, name: 'Second' }),
      ]);

      expect(results.map((r) => r.status).sort()).toEqual([201, 409]);
      const loser = results.find((r) => r.status === 409)!;
      expectProblem(loser, 409);
      expect(await userCount(email)).toBe(1);
    });
  });

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

  describe('POST /auth/refresh', () => {
    it('returns a new pair for the same session; the old refresh token is then dead', async () => {
      const ada = await registerUser(t.api);
      const [before] = await sessionsOf(t.db.pool, ada.user.id);

      const res = await refresh(ada.refreshToken);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        user: ada.user,
        accessToken: expect.any(String),
        refreshToken: expect.any(String),
        tokenType: 'Bearer',
        expiresIn: 900,
      });
      expect(res.body.refreshToken).not.toBe(ada.refreshToken);

      const after = await sessionsOf(t.db.pool, ada.user.id);
      expect(after).toHaveLength(1);
      expect(after[0].id).toBe(before.id);
      expect(after[0].revoked_at).toBeNull();
      expect(after[0].refresh_token_hash.equals(before.refresh_token_hash)).toBe(false);
      expect(after[0].last_used_at.getTime()).toBeGreaterThanOrEqual(before.last_used_at.getTime());
      expect(Object.values(claimsOf(res.body.accessToken))).toContain(before.id);
      expect((await me(res.body.accessToken)).status).toBe(200);

      const again = await refresh(ada.refreshToken);
      expectUnauthorized(again);
    });

    it('keeps rotating: each refresh token handed out works for the next refresh', async () => {
      const ada = await registerUser(t.api);
      let token = ada.refreshToken;
      for (let i = 0; i < 3; i++) {
        const res = await refresh(token);
        expect(res.status).toBe(200);
        token = res.body.refreshToken;
      }
      expect((await refresh(token)).status).toBe(200);
    });

    it('revokes the whole session when a thief reuses a token the victim already rotated', async () => {
      const victim = await registerUser(t.api);
      const stolen = victim.refreshToken;
      const rotated = await refresh(stolen);
      expect(rotated.status).toBe(200);

      const theft = await refresh(stolen);
      expectUnauthorized(theft);

      const [session] = await sessionsOf(t.db.pool, victim.user.id);
      expect(session.revoked_at).toBeInstanceOf(Date);
      expectUnauthorized(await refresh(rotated.body.refreshToken));
      expectUnauthorized(await me(rotated.body.accessToken));
      expectUnauthorized(await me(victim.accessToken));
    });

    it("revokes the whole session when the victim reuses a token the thief already rotated, killing the thief's newest", async () => {
      const victim = await registerUser(t.api);
      const stolen = victim.refreshToken;
      const thief = await refresh(stolen);
      expect(thief.status).toBe(200);

      const victimRetry = await refresh(stolen);
      expectUnauthorized(victimRetry);

      const [session] = await sessionsOf(t.db.pool, victim.user.id);
      expect(session.revoked_at).toBeInstanceOf(Date);
      expectUnauthorized(await refresh(thief.body.refreshToken));
      expectUnauthorized(await me(thief.body.accessToken));
      expectUnauthorized(await me(victim.accessToken));
    });

    it('lets only one of two concurrent uses of the same token win, and treats the other as reuse', async () => {
      const ada = await registerUser(t.api);
      const results = await Promise.all([refresh(ada.refreshToken), refresh(ada.refreshToken)]);

      expect(results.map((r) => r.status).sort()).toEqual([200, 401]);
      const [session] = await sessionsOf(t.db.pool, ada.user.id);
      expect(session.revoked_at).toBeInstanceOf(Date);
      const winner = results.find((r) => r.status === 200)!;
      expectUnauthorized(await refresh(winner.body.refreshToken));
    });

    it("revokes only the reused session, not the user's other sessions", async () => {
      const ada = await registerUser(t.api);
      const laptop = await login(t.api, ada.user.email, ada.password);
      expect((await refresh(ada.refreshToken)).status).toBe(200);
      expectUnauthorized(await refresh(ada.refreshToken));

      expect((await me(laptop.accessToken)).status).toBe(200);
      expect((await refresh(laptop.refreshToken)).status).toBe(200);
      const sessions = await sessionsOf(t.db.pool, ada.user.id);
      expect(sessions.map((s) => s.revoked_at === null)).toEqual([false, true]);
    });

    it.each([
      ['garbage', 'garbage'],
      ['a JWT', () => signJwt({ sub: randomUUID(), exp: nowS() + 60 })],
      ['an unknown session with a well-formed secret', () => `${randomUUID()}.${'A'.repeat(43)}`],
      ['a truncated token', (a: Account) => a.refreshToken.slice(0, -5)],
      ['a token with extra characters', (a: Account) => `${a.refreshToken}xx`],
      ['the access token', (a: Account) => a.accessToken],
    ])('answers 401 for %s, leaving the session usable', async (_label, make) => {
      const ada = await registerUser(t.api);
      const token = typeof make === 'string' ? make : make(ada);

      const res = await refresh(token);
      expectUnauthorized(res);
      expect(res.text).not.toContain(token);
      const [session] = await sessionsOf(t.db.pool, ada.user.id);
      expect(session.revoked_at).toBeNull();
      expect((await refresh(ada.refreshToken)).status).toBe(200);
    });

    // The session id is no secret (every access token carries it), so a guess must not sign the user out:
    // only a token that was really issued and then rotated proves theft.
    it('answers 401 for a never-issued token that differs in one character, without revoking the session', async () => {
      const ada = await registerUser(t.api);
      const at = ada.refreshToken.length - 10;
      const forged = `${ada.refreshToken.slice(0, at)}${ada.refreshToken[at] === 'Q' ? 'R' : 'Q'}${ada.refreshToken.slice(at + 1)}`;

      const res = await refresh(forged);

      expectUnauthorized(res);
      const [session] = await sessionsOf(t.db.pool, ada.user.id);
      expect(session.revoked_at).toBeNull();
      expect((await me(ada.accessToken)).status).toBe(200);
      expect((await refresh(ada.refreshToken)).status).toBe(200);
    });

    it('answers 401 once the session has expired, for the refresh and the access token', async () => {
      const ada = await registerUser(t.api);
      await t.db.pool.query("UPDATE sessions SET expires_at = now() - interval '1 second' WHERE user_id = $1", [
        ada.user.id,
      ]);

      expectUnauthorized(await refresh(ada.refreshToken));
      expectUnauthorized(await me(ada.accessToken));
    });

    it.each([
      ['a missing token', {}],
      ['an empty token', { refreshToken: '' }],
      ['a number', { refreshToken: 42 }],
      ['a 513-character token', { refreshToken: 'x'.repeat(513) }],
      ['an unknown field', { refreshToken: 'x', extra: 1 }],
    ])('rejects %s with 400', async (_label, body) => {
      const res = await t.api.post(`${API}/auth/refresh`).send(body);
      expectProblem(res, 400);
      expect(res.body.errors).toEqual([{ field: expect.any(String), message: expect.any(String) }]);
    });
  });

  describe('POST /auth/logout', () => {
    it("answers 204 and ends that session: its access and refresh tokens are rejected, the user's other sessions keep working", async () => {
      const ada = await registerUser(t.api);
      const phone = await login(t.api, ada.user.email, ada.password);

      const res = await t.api.post(`${API}/auth/logout`).auth(ada.accessToken, { type: 'bearer' });
      expect(res.status).toBe(204);
      expect(res.text).toBe('');

      const sessions = await sessionsOf(t.db.pool, ada.user.id);
      expect(sessions.map((s) => s.revoked_at === null)).toEqual([false, true]);
      expectUnauthorized(await me(ada.accessToken));
      expectUnauthorized(await refresh(ada.refreshToken));

      expect((await me(phone.accessToken)).status).toBe(200);
      const renewed = await refresh(phone.refreshToken);
      expect(renewed.status).toBe(200);
      expect((await me(renewed.body.accessToken)).status).toBe(200);
    });

    it('answers 401 without a bearer token', async () => {
      const res = await t.api.post(`${API}/auth/logout`);
      expectUnauthorized(res);
    });

    it('answers 401 for a session that has already logged out', async () => {
      const ada = await registerUser(t.api);
      expect((await t.api.post(`${API}/auth/logout`).auth(ada.accessToken, { type: 'bearer' })).status).toBe(204);
      const [{ revoked_at: revokedAt }] = await sessionsOf(t.db.pool, ada.user.id);

      expectUnauthorized(await t.api.post(`${API}/auth/logout`).auth(ada.accessToken, { type: 'bearer' }));
      expect((await sessionsOf(t.db.pool, ada.user.id))[0].revoked_at).toEqual(revokedAt);
    });
  });

  describe('access tokens (checked on GET /users/me)', () => {
    let ada: Account;
    let bob: Account;
    let genuine: Claims;

    beforeAll(async () => {
      ada = await registerUser(t.api);
      bob = await registerUser(t.api);
      genuine = claimsOf(ada.accessToken);
    });

    it('accepts a token signed the way the service signs (so the attacks below fail for their one difference)', async () => {
      const res = await me(signJwt({ ...genuine, iat: nowS(), exp: nowS() + 300 }));
      expect(res.status).toBe(200);
      expect(res.body.id).toBe(ada.user.id);
    });

    const attacks: [string, () => Record<string, string>][] = [
      ['no Authorization header', () => ({})],
      ['an empty bearer token', () => ({ Authorization: 'Bearer ' })],
      ['Bearer garbage', () => ({ Authorization: 'Bearer garbage' })],
      ['the token without the Bearer scheme', () => ({ Authorization: ada.accessToken })],
      ['the token under the Basic scheme', () => ({ Authorization: `Basic ${ada.accessToken}` })],
      [
        'a token signed with another secret',
        () => bearer(signJwt(genuine, { secret: 'another-secret-that-is-long-enough-000000' })),
      ],
      ['an alg:none token', () => bearer(signJwt(genuine, { alg: 'none' }))],
      [
        'an alg:none token keeping the original signature',
        () => bearer(withHeader(ada.accessToken, { alg: 'none', typ: 'JWT' })),
      ],
      ['an HS512 token signed with the right secret', () => bearer(signJwt(genuine, { alg: 'HS512' }))],
      ['an expired token', () => bearer(signJwt({ ...genuine, iat: nowS() - 3600, exp: nowS() - 60 }))],
      [
        'a token with a tampered payload and the original signature',
        () => bearer(withPayload(ada.accessToken, { ...genuine, sub: bob.user.id })),
      ],
      [
        "a validly signed token with another user's sub and my session",
        () => bearer(signJwt({ ...genuine, sub: bob.user.id })),
      ],
      [
        "a validly signed token with my sub and another user's session",
        () => bearer(signJwt(replaceValue(genuine, sessionIdOf(genuine), sessionIdOf(claimsOf(bob.accessToken))))),
      ],
      ['a validly signed token with a sub that is not a UUID', () => bearer(signJwt({ ...genuine, sub: 'admin' }))],
      ['a validly signed token without sub', () => bearer(signJwt(without(genuine, 'sub')))],
      [
        'a validly signed token with an unknown session',
        () => bearer(signJwt(replaceValue(genuine, sessionIdOf(genuine), randomUUID()))),
      ],
      ['a wrong issuer', () => bearer(signJwt({ ...genuine, iss: 'someone-else' }))],
      ['a wrong audience', () => bearer(signJwt({ ...genuine, aud: 'someone-else' }))],
      ['no issuer', () => bearer(signJwt(without(genuine, 'iss')))],
      ['no audience', () => bearer(signJwt(without(genuine, 'aud')))],
    ];

    it.each(attacks)('answers 401 problem+json with WWW-Authenticate: Bearer for %s', async (_label, headers) => {
      const res = await t.api.get(`${API}/users/me`).set(headers());
      expectUnauthorized(res);
      expect(JSON.stringify(res.body)).not.toContain(ada.user.email);
    });

    it('says an expired token has expired', async () => {
      const res = await me(signJwt({ ...genuine, iat: nowS() - 3600, exp: nowS() - 60 }));
      expectUnauthorized(res);
      expect(res.body.detail).toMatch(/expired/i);
    });

    it("never lets bob's token act for ada or ada's for bob", async () => {
      expect((await me(ada.accessToken)).body.id).toBe(ada.user.id);
      expect((await me(bob.accessToken)).body.id).toBe(bob.user.id);
    });
  });

  describe('secrets at rest and in logs', () => {
    it('stores the password only as an argon2id hash and the refresh token only as a 32-byte hash', async () => {
      const password = `pw-${randomUUID()}`;
      const ada = await registerUser(t.api, { password });

      const { rows } = await t.db.pool.query<{ password_hash: string }>(
        'SELECT password_hash FROM users WHERE id = $1',
        [ada.user.id],
      );
      expect(rows[0].password_hash).toMatch(/^\$argon2id\$/);
      expect(rows[0].password_hash).not.toContain(password);
      expect(rows[0].password_hash).not.toContain(Buffer.from(password).toString('base64').replace(/=+$/, ''));

      const [session] = await sessionsOf(t.db.pool, ada.user.id);
      const hash = session.refresh_token_hash;
      expect(hash).toHaveLength(32);
      for (const encoded of [
        hash.toString('hex'),
        hash.toString('base64url'),
        hash.toString('base64').replace(/=+$/, ''),
      ]) {
        expect(ada.refreshToken).not.toContain(encoded);
      }
      for (const part of [ada.refreshToken, ...ada.refreshToken.split(/[.\-_:]/)]) {
        expect(Buffer.from(part, 'base64url').equals(hash)).toBe(false);
        expect(Buffer.from(part).equals(hash)).toBe(false);
      }
      const { rows: raw } = await t.db.pool.query<{ row: string }>(
        'SELECT s::text AS row FROM sessions s WHERE user_id = $1',
        [ada.user.id],
      );
      expect(raw[0].row).not.toContain(ada.refreshToken.split('.').pop());
    });

    it('never returns the password or its hash', async () => {
      const password = `pw-${randomUUID()}`;
      const res = await register({ email: uniqueEmail(), password, name: 'Secretive' });
      expect(res.status).toBe(201);
      expect(res.text).not.toContain(password);
      expect(res.text).not.toMatch(/argon2|passwordHash|password_hash/i);
      const profile = await me(res.body.accessToken);
      expect(profile.text).not.toMatch(/argon2|passwordHash|password_hash/i);
    });

    it('never writes the password, access tokens or refresh tokens to the logs', async () => {
      const password = `pw-${randomUUID()}`;
      const wrongPassword = `wrong-${randomUUID()}`;
      const email = uniqueEmail('logged');
      const registered = await register({ email, password, name: 'Logged' });
      expect(registered.status).toBe(201);
      expectProblem(await signIn({ email, password: wrongPassword }), 401);
      const signedIn = await signIn({ email, password });
      expect(signedIn.status).toBe(200);
      const refreshed = await refresh(signedIn.body.refreshToken);
      expect(refreshed.status).toBe(200);
      expect((await me(refreshed.body.accessToken)).status).toBe(200);
      expectProblem(await register({ email, password, name: 'Logged', extra: password }), 400);
      expect((await t.api.post(`${API}/auth/logout`).auth(refreshed.body.accessToken, { type: 'bearer' })).status).toBe(
        204,
      );

      expectUnauthorized(await refresh(signedIn.body.refreshToken));

      const marker = `log-marker-${randomUUID()}`;
      await t.api.get('/health/live').set('X-Request-Id', marker);
      await untilLogged(t, marker);

      const secrets = [
        password,
        wrongPassword,
        registered.body.accessToken,
        registered.body.refreshToken,
        signedIn.body.accessToken,
        signedIn.body.refreshToken,
        refreshed.body.accessToken,
        refreshed.body.refreshToken,
      ];
      const paths = t.logs.map((line) => line.path);
      for (const route of ['register', 'login', 'refresh', 'logout']) expect(paths).toContain(`${API}/auth/${route}`);
      for (const line of t.logs) {
        for (const secret of secrets) expect(line.raw).not.toContain(secret);
        // The random part of a refresh token alone is the secret.
        for (const token of secrets.slice(2)) expect(line.raw).not.toContain(token.split('.').pop());
      }
    });
  });
});

function bearer(token: string): Record<string, string> {
  return { Authorization: `Bearer ${token}` };
}

function withHeader(token: string, header: object): string {
  const [, payload, signature] = token.split('.');
  return `${base64url(header)}.${payload}.${signature}`;
}

function withPayload(token: string, claims: object): string {
  const [header, , signature] = token.split('.');
  return `${header}.${base64url(claims)}.${signature}`;
}

function without(claims: Claims, key: string): Record<string, unknown> {
  const { [key]: _dropped, ...rest } = claims;
  return rest;
}

function sessionIdOf(claims: Claims): string {
  const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
  const [id] = Object.entries(claims).filter(
    ([key, value]) => key !== 'sub' && typeof value === 'string' && uuid.test(value),
  );
  return id[1] as string;
}

function replaceValue(claims: Claims, from: string, to: string): Record<string, unknown> {
  return Object.fromEntries(Object.entries(claims).map(([key, value]) => [key, value === from ? to : value]));
}
