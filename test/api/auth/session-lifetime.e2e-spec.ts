import { startTestApp, type TestApp } from '../../support/app';
import { API, expectUnauthorized, login, NO_THROTTLING, registerUser } from '../../support/auth';

const LIFETIME_S = 4;

describe('absolute session lifetime (SESSION_MAX_LIFETIME_S=4)', () => {
  let t: TestApp;

  beforeAll(async () => {
    // The idle expiry stays at its default of 30 days: only the absolute lifetime can end these sessions.
    t = await startTestApp({ env: { ...NO_THROTTLING, SESSION_MAX_LIFETIME_S: String(LIFETIME_S) } });
  });
  afterAll(() => t.close());

  const refresh = (refreshToken: string) => t.api.post(`${API}/auth/refresh`).send({ refreshToken });
  const me = (accessToken: string) => t.api.get(`${API}/users/me`).auth(accessToken, { type: 'bearer' });
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  it('ends a session that keeps refreshing: its end never moves past login + the lifetime, then refresh is 401', async () => {
    const ada = await registerUser(t.api);
    const sessionId = ada.refreshToken.split('.')[0];
    const state = async () =>
      (
        await t.db.pool.query<{ capped: boolean; over: boolean; revoked: boolean }>(
          `SELECT expires_at = created_at + make_interval(secs => $2) AS capped,
                  now() >= created_at + make_interval(secs => $2) AS over, revoked_at IS NOT NULL AS revoked
             FROM sessions WHERE id = $1`,
          [sessionId, LIFETIME_S],
        )
      ).rows[0];
    expect(await state()).toEqual({ capped: true, over: false, revoked: false });

    let { refreshToken, accessToken } = ada;
    let refreshed = 0;
    for (;;) {
      const res = await refresh(refreshToken);
      if (res.status !== 200) {
        expectUnauthorized(res);
        break;
      }
      refreshed++;
      ({ refreshToken, accessToken } = res.body);
      expect(await state()).toEqual(expect.objectContaining({ capped: true }));
      expect(refreshed).toBeLessThan(60);
      await sleep(250);
    }

    expect(refreshed).toBeGreaterThan(0);
    expect(await state()).toEqual({ capped: true, over: true, revoked: false });
    expectUnauthorized(await refresh(refreshToken));
    expectUnauthorized(await me(accessToken));

    const again = await login(t.api, ada.user.email, ada.password);
    expect((await me(again.accessToken)).status).toBe(200);
    expect((await refresh(again.refreshToken)).status).toBe(200);
  });
});
