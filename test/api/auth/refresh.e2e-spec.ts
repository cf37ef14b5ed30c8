import { randomUUID } from 'node:crypto';
import { startTestApp, type TestApp } from '../../support/app';
import {
  API,
  claimsOf,
  expectProblem,
  expectUnauthorized,
  login,
  NO_THROTTLING,
  nowS,
  registerUser,
  sessionsOf,
  signJwt,
  type Account,
} from '../../support/auth';

let t: TestApp;

beforeAll(async () => {
  t = await startTestApp({ env: NO_THROTTLING });
});
afterAll(() => t.close());

const refresh = (refreshToken: unknown) => t.api.post(`${API}/auth/refresh`).send({ refreshToken });
const me = (accessToken: string) => t.api.get(`${API}/users/me`).auth(accessToken, { type: 'bearer' });

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
    const generation = await t.db.pool.query('SELECT refresh_generation FROM sessions WHERE id = $1', [before.id]);
    expect(generation.rows).toEqual([{ refresh_generation: 1 }]);
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

  // The message names the rule the value broke: presence, then kind, then size.
  it.each([
    ['a missing token', {}, 'refreshToken', 'refreshToken is required'],
    [
      'an empty token',
      { refreshToken: '' },
      'refreshToken',
      'refreshToken must be longer than or equal to 1 characters',
    ],
    ['a number', { refreshToken: 42 }, 'refreshToken', 'refreshToken must be a string'],
    ['null', { refreshToken: null }, 'refreshToken', 'refreshToken must be a string'],
    [
      'a 513-character token',
      { refreshToken: 'x'.repeat(513) },
      'refreshToken',
      'refreshToken must be shorter than or equal to 512 characters',
    ],
    ['an unknown field', { refreshToken: 'x', extra: 1 }, 'extra', 'extra is not a known field'],
  ])('rejects %s with 400 naming the rule', async (_label, body, field, message) => {
    const res = await t.api.post(`${API}/auth/refresh`).send(body);
    expectProblem(res, 400);
    expect(res.body.errors).toEqual([{ field, message }]);
    expect(res.body.detail).toBe(message);
  });
});
