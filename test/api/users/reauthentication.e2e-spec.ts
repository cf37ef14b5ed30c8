import { createHmac } from 'node:crypto';
import type { Response } from 'supertest';
import { startTestApp, TEST_JWT_SECRET, type TestApp } from '../../support/app';
import { PROBLEM_JSON } from '../../support/http';
import { API, login, NO_THROTTLING, registerUser, uniqueEmail, type Account } from '../../support/auth';

const WINDOW_S = 3;
const REAUTHENTICATION_REQUIRED = 'urn:tasks-api:problem:reauthentication-required';

type Claims = Record<string, unknown> & { sub: string; sid: string; auth_time?: number; iat: number };
const claimsOf = (token: string): Claims =>
  JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()) as Claims;

/** 403 problem+json whose type tells the client to sign in again. */
function expectReauthenticationRequired(res: Response): void {
  expect(res.status).toBe(403);
  expect(res.headers['content-type']).toMatch(PROBLEM_JSON);
  expect(res.body).toEqual({
    type: REAUTHENTICATION_REQUIRED,
    title: 'Reauthentication required',
    status: 403,
    detail: expect.stringMatching(/sign in again/),
    instance: `${API}/users/me`,
    requestId: res.headers['x-request-id'],
  });
}

describe(`recent authentication for account changes (REAUTH_WINDOW_S=${WINDOW_S})`, () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ env: { ...NO_THROTTLING, REAUTH_WINDOW_S: String(WINDOW_S) } });
  });
  afterAll(() => t.close());

  const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });
  const changeEmail = (token: string, email: string) =>
    t.api.patch(`${API}/users/me`).set(bearer(token)).send({ email });
  const rename = (token: string, name: string) => t.api.patch(`${API}/users/me`).set(bearer(token)).send({ name });
  const deleteAccount = (token: string) => t.api.delete(`${API}/users/me`).set(bearer(token));
  const refresh = (refreshToken: string) => t.api.post(`${API}/auth/refresh`).send({ refreshToken });
  const stored = async (id: string) =>
    (await t.db.pool.query<{ email: string; name: string }>('SELECT email, name FROM users WHERE id = $1', [id]))
      .rows[0];

  /** Waits until the token's auth_time is older than the window (by the same clock the server reads). */
  async function ageing(token: string): Promise<void> {
    const authTime = claimsOf(token).auth_time!;
    const wait = (authTime + WINDOW_S + 1) * 1000 - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  }

  /** A user whose session signed in more than the window ago. */
  async function staleUser(): Promise<Account> {
    const ada = await registerUser(t.api);
    await ageing(ada.accessToken);
    return ada;
  }

  it('puts the time of the password proof in access tokens as auth_time (seconds); a refresh keeps it', async () => {
    const before = Math.floor(Date.now() / 1000);
    const ada = await registerUser(t.api);
    const claims = claimsOf(ada.accessToken);
    expect(claims.auth_time).toEqual(expect.any(Number));
    expect(Number.isInteger(claims.auth_time)).toBe(true);
    expect(claims.auth_time).toBeGreaterThanOrEqual(before);
    expect(claims.auth_time).toBeLessThanOrEqual(claims.iat);

    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const renewed = await refresh(ada.refreshToken);
    expect(renewed.status).toBe(200);
    expect(claimsOf(renewed.body.accessToken).auth_time).toBe(claims.auth_time);
    expect(claimsOf(renewed.body.accessToken).iat).toBeGreaterThan(claims.auth_time!);
  });

  it('answers 403 reauthentication-required to an email change with an old auth_time, and changes nothing', async () => {
    const ada = await staleUser();

    expectReauthenticationRequired(await changeEmail(ada.accessToken, uniqueEmail('new')));
    expectReauthenticationRequired(
      await t.api.patch(`${API}/users/me`).set(bearer(ada.accessToken)).send({ name: 'Both', email: uniqueEmail() }),
    );

    expect(await stored(ada.user.id)).toEqual({ email: ada.user.email, name: 'Test User' });
  });

  it('answers 403 before 409: an old token cannot probe which emails are taken', async () => {
    const ada = await staleUser();
    const bob = await registerUser(t.api);
    expectReauthenticationRequired(await changeEmail(ada.accessToken, bob.user.email));
  });

  it('answers 403 reauthentication-required to account deletion with an old auth_time, and deletes nothing', async () => {
    const ada = await staleUser();

    expectReauthenticationRequired(await deleteAccount(ada.accessToken));

    expect(await stored(ada.user.id)).toBeDefined();
    expect((await t.api.get(`${API}/users/me`).set(bearer(ada.accessToken))).status).toBe(200);
  });

  it('still lets an old auth_time change the name', async () => {
    const ada = await staleUser();
    const res = await rename(ada.accessToken, 'Ada King');
    expect(res.status).toBe(200);
    expect(res.body.name).toBe('Ada King');
  });

  it('does not renew auth_time on refresh: the refreshed token is still too old', async () => {
    const ada = await staleUser();
    const renewed = await refresh(ada.refreshToken);
    expect(renewed.status).toBe(200);
    expectReauthenticationRequired(await changeEmail(renewed.body.accessToken, uniqueEmail()));
  });

  it('lets the email change and the deletion through right after a new login', async () => {
    const ada = await staleUser();
    const fresh = await login(t.api, ada.user.email, ada.password);
    const email = uniqueEmail('renamed');

    const changed = await changeEmail(fresh.accessToken, email);
    expect(changed.status).toBe(200);
    expect(changed.body.email).toBe(email);
    expect((await stored(ada.user.id)).email).toBe(email);

    expect((await deleteAccount(fresh.accessToken)).status).toBe(204);
    expect(await stored(ada.user.id)).toBeUndefined();
  });

  it('renews auth_time when the session changes the password: its next access token may change the email', async () => {
    const ada = await staleUser();
    const changed = await t.api
      .put(`${API}/users/me/password`)
      .set(bearer(ada.accessToken))
      .send({ currentPassword: ada.password, newPassword: 'a brand new passphrase' });
    expect(changed.status).toBe(204);

    const renewed = await refresh(ada.refreshToken);
    expect(renewed.status).toBe(200);
    expect(claimsOf(renewed.body.accessToken).auth_time).toBeGreaterThan(claimsOf(ada.accessToken).auth_time!);
    expect((await changeEmail(renewed.body.accessToken, uniqueEmail())).status).toBe(200);
  });

  it('never counts a token without auth_time (issued before it existed) as recent, while it still authenticates', async () => {
    const ada = await registerUser(t.api);
    const { auth_time: _authTime, ...claims } = claimsOf(ada.accessToken);
    const legacy = sign(claims);

    expect((await t.api.get(`${API}/users/me`).set(bearer(legacy))).status).toBe(200);
    expectReauthenticationRequired(await changeEmail(legacy, uniqueEmail()));
    expectReauthenticationRequired(await deleteAccount(legacy));
  });

  it('documents the 403 and its type on PATCH and DELETE /users/me in the OpenAPI document', async () => {
    const doc = (await t.api.get('/docs-json')).body;
    const me = doc.paths[`${API}/users/me`];
    for (const operation of [me.patch, me.delete]) {
      expect(operation.responses['403'].content['application/problem+json'].schema).toEqual({
        $ref: '#/components/schemas/ReauthenticationProblemDto',
      });
    }
    const schema = doc.components.schemas.ReauthenticationProblemDto;
    expect(schema.properties.type.enum).toEqual([REAUTHENTICATION_REQUIRED]);
    expect(Object.keys(schema.properties).sort()).toEqual(
      ['detail', 'instance', 'requestId', 'status', 'title', 'type'].sort(),
    );
  });
});

function sign(claims: object): string {
  const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const unsigned = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64(claims)}`;
  return `${unsigned}.${createHmac('sha256', TEST_JWT_SECRET).update(unsigned).digest('base64url')}`;
}
