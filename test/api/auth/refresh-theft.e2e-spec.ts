import { createHash, randomBytes } from 'node:crypto';
import { startTestApp, type TestApp } from '../../support/app';
import { API, expectUnauthorized, NO_THROTTLING, registerUser, type Account } from '../../support/auth';

const sessionIdOf = (refreshToken: string) => refreshToken.split('.')[0];

describe('refresh-token theft detection by generation', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ env: NO_THROTTLING });
  });
  afterAll(() => t.close());

  const refresh = (refreshToken: string) => t.api.post(`${API}/auth/refresh`).send({ refreshToken });
  const me = (accessToken: string) => t.api.get(`${API}/users/me`).auth(accessToken, { type: 'bearer' });
  const revokedAt = async (id: string) =>
    (await t.db.pool.query<{ revoked_at: Date | null }>('SELECT revoked_at FROM sessions WHERE id = $1', [id])).rows[0]
      .revoked_at;
  const session = async (id: string) =>
    (
      await t.db.pool.query<{ refresh_generation: number; revoked_at: Date | null }>(
        'SELECT refresh_generation, revoked_at FROM sessions WHERE id = $1',
        [id],
      )
    ).rows[0];

  /** Rotates `times` times; every refresh token handed out, the first (the login's) included, and the last access token. */
  async function rotate(account: Account, times: number): Promise<{ tokens: string[]; accessToken: string }> {
    const tokens = [account.refreshToken];
    let accessToken = account.accessToken;
    for (let i = 0; i < times; i++) {
      const res = await refresh(tokens[tokens.length - 1]);
      expect(res.status).toBe(200);
      tokens.push(res.body.refreshToken);
      accessToken = res.body.accessToken;
    }
    return { tokens, accessToken };
  }

  it('hands out <session id>.<generation>.<MAC> tokens, one generation further on every refresh', async () => {
    const ada = await registerUser(t.api);
    const { tokens } = await rotate(ada, 2);

    expect(tokens.map((token) => token.split('.').slice(0, 2).join('.'))).toEqual(
      [0, 1, 2].map((generation) => `${sessionIdOf(ada.refreshToken)}.${generation}`),
    );
    for (const token of tokens) expect(token.split('.')[2]).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect((await session(sessionIdOf(ada.refreshToken))).refresh_generation).toBe(2);
  });

  it('revokes the session when the first token comes back after 40 rotations: the latest access and refresh tokens get 401', async () => {
    const victim = await registerUser(t.api);
    const { tokens, accessToken } = await rotate(victim, 40);
    expect((await me(accessToken)).status).toBe(200);

    expectUnauthorized(await refresh(tokens[0]));

    expect(await revokedAt(sessionIdOf(tokens[0]))).toBeInstanceOf(Date);
    expectUnauthorized(await refresh(tokens[40]));
    expectUnauthorized(await me(accessToken));
  });

  it.each([
    ['the one just before the current one', 39],
    ['one from the middle', 17],
  ])('revokes the session when any older token comes back: %s', async (_what, replayed) => {
    const victim = await registerUser(t.api);
    const { tokens, accessToken } = await rotate(victim, 40);

    expectUnauthorized(await refresh(tokens[replayed]));

    expectUnauthorized(await refresh(tokens[40]));
    expectUnauthorized(await me(accessToken));
  });

  it.each([
    ['the current generation', (generation: number) => generation],
    ['an older generation', (generation: number) => generation - 1],
    ['a later generation', (generation: number) => generation + 1],
  ])('answers 401 to a made-up MAC for a real session at %s and revokes nothing', async (_what, pick) => {
    const ada = await registerUser(t.api);
    const { tokens, accessToken } = await rotate(ada, 3);
    const forged = `${sessionIdOf(ada.refreshToken)}.${pick(3)}.${randomBytes(32).toString('base64url')}`;

    expectUnauthorized(await refresh(forged));

    expect(await session(sessionIdOf(ada.refreshToken))).toEqual({ refresh_generation: 3, revoked_at: null });
    expect((await me(accessToken)).status).toBe(200);
    expect((await refresh(tokens[3])).status).toBe(200);
  });

  it("answers 401 to one session's genuine MAC under another session's id, revoking neither", async () => {
    const ada = await registerUser(t.api);
    const bob = await registerUser(t.api);
    const [, generation, mac] = ada.refreshToken.split('.');

    expectUnauthorized(await refresh(`${sessionIdOf(bob.refreshToken)}.${generation}.${mac}`));

    expect((await refresh(bob.refreshToken)).status).toBe(200);
    expect((await refresh(ada.refreshToken)).status).toBe(200);
  });

  it('lets one of two concurrent refreshes with the same token win and revokes the session for the other', async () => {
    const ada = await registerUser(t.api);
    const { tokens } = await rotate(ada, 1);

    const results = await Promise.all([refresh(tokens[1]), refresh(tokens[1])]);

    expect(results.map((res) => res.status).sort()).toEqual([200, 401]);
    expect(await revokedAt(sessionIdOf(ada.refreshToken))).toBeInstanceOf(Date);
    const winner = results.find((res) => res.status === 200)!;
    expectUnauthorized(await refresh(winner.body.refreshToken));
    expectUnauthorized(await me(winner.body.accessToken));
  });

  // A session the previous release opened has a token `<session id>.<secret>` and no MAC key: it is refused
  // at refresh (the client signs in again) and revokes nothing; its access token lives out its short life.
  it('refuses the refresh token of a session opened by the previous release, without revoking it', async () => {
    const ada = await registerUser(t.api);
    const secret = randomBytes(32);
    const { rows } = await t.db.pool.query<{ id: string }>(
      `INSERT INTO sessions (id, user_id, refresh_token_hash, expires_at)
       VALUES (gen_random_uuid(), $1, $2, now() + interval '30 days') RETURNING id`,
      [ada.user.id, createHash('sha256').update(secret).digest()],
    );
    const old = rows[0].id;

    expectUnauthorized(await refresh(`${old}.${secret.toString('base64url')}`));
    expectUnauthorized(await refresh(`${old}.0.${secret.toString('base64url')}`));

    expect(await session(old)).toEqual({ refresh_generation: 0, revoked_at: null });
    expect((await refresh(ada.refreshToken)).status).toBe(200);
  });
});
