import { randomUUID } from 'node:crypto';
import { startTestApp, type TestApp } from '../../support/app';
import {
  API,
  expectProblem,
  expectUnauthorized,
  NO_THROTTLING,
  registerUser,
  uniqueEmail,
  untilLogged,
} from '../../support/auth';

let t: TestApp;

beforeAll(async () => {
  // Trace level: whatever the service would log at any level is in t.logs for the secrets check.
  t = await startTestApp({ env: { ...NO_THROTTLING, LOG_LEVEL: 'trace' } });
});
afterAll(() => t.close());

const register = (body: unknown) => t.api.post(`${API}/auth/register`).send(body as object);
const signIn = (body: unknown) => t.api.post(`${API}/auth/login`).send(body as object);
const refresh = (refreshToken: unknown) => t.api.post(`${API}/auth/refresh`).send({ refreshToken });
const me = (accessToken: string) => t.api.get(`${API}/users/me`).auth(accessToken, { type: 'bearer' });

describe('secrets at rest and in logs', () => {
  it('stores the password only as an argon2id hash, and nothing from which a refresh token could be rebuilt', async () => {
    const password = `pw-${randomUUID()}`;
    const ada = await registerUser(t.api, { password });

    const { rows } = await t.db.pool.query<{ password_hash: string }>('SELECT password_hash FROM users WHERE id = $1', [
      ada.user.id,
    ]);
    expect(rows[0].password_hash).toMatch(/^\$argon2id\$/);
    expect(rows[0].password_hash).not.toContain(password);
    expect(rows[0].password_hash).not.toContain(Buffer.from(password).toString('base64').replace(/=+$/, ''));

    // The row keeps the generation and the key's nonce; the MAC needs the server secret as well.
    const mac = Buffer.from(ada.refreshToken.split('.').pop()!, 'base64url');
    const { rows: raw } = await t.db.pool.query<{ row: string; hash: Buffer | null; nonce: Buffer }>(
      'SELECT s::text AS row, refresh_token_hash AS hash, refresh_key_nonce AS nonce FROM sessions s WHERE user_id = $1',
      [ada.user.id],
    );
    expect(raw[0].hash).toBeNull();
    expect(raw[0].nonce).toHaveLength(16);
    for (const encoded of [mac.toString('hex'), mac.toString('base64url'), mac.toString('base64').replace(/=+$/, '')]) {
      expect(raw[0].row).not.toContain(encoded);
    }
    expect(ada.refreshToken).not.toContain(raw[0].nonce.toString('hex'));
    expect(ada.refreshToken).not.toContain(raw[0].nonce.toString('base64url'));
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
