import { startTestApp, type TestApp } from '../../support/app';
import { API, expectUnauthorized, login, NO_THROTTLING, registerUser, sessionsOf } from '../../support/auth';

let t: TestApp;

beforeAll(async () => {
  t = await startTestApp({ env: NO_THROTTLING });
});
afterAll(() => t.close());

const refresh = (refreshToken: unknown) => t.api.post(`${API}/auth/refresh`).send({ refreshToken });
const me = (accessToken: string) => t.api.get(`${API}/users/me`).auth(accessToken, { type: 'bearer' });

describe('POST /auth/logout', () => {
  it("answers 204 and ends that session: its access and refresh tokens are rejected, the user's other sessions keep working", async () => {
    const ada = await registerUser(t.api);
    const phone = await login(t.api, ada.user.email, ada.password);

    const res = await t.api.post(`${API}/auth/logout`).auth(ada.accessToken, { type: 'bearer' });
    expect(res.status).toBe(204);
    expect(res.text).toBe('');

    const sessions = await sessionsOf(t.db.pool, ada.user.id);
    expect(sessions.map((s) => s.revoked_at === null)).toEqual([false, true]);
    const ended = await me(ada.accessToken);
    expectUnauthorized(ended);
    expect(ended.body.detail).toBe('The session has ended; sign in again');
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
