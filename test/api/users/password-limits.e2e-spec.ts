import type { Response } from 'supertest';
import { closeReplicas, startReplicas, type TestApp } from '../../support/app';
import { API, expectProblem, NO_THROTTLING, registerUser } from '../../support/auth';

// PUT /users/me/password checks a password too: a stolen access token must not allow unlimited guessing.
// Two processes on one database, requests alternating between them: the limits hold in total.

const changePassword = (app: TestApp, accessToken: string, currentPassword: string, newPassword: string) =>
  app.api.put(`${API}/users/me/password`).auth(accessToken, { type: 'bearer' }).send({ currentPassword, newPassword });
const signIn = (app: TestApp, email: string, password: string) =>
  app.api.post(`${API}/auth/login`).send({ email, password });

function expectRetryAfter(res: Response, windowS: number): void {
  expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
  expect(Number(res.headers['retry-after'])).toBeLessThanOrEqual(windowS);
}

async function passwordHash(app: TestApp, userId: string): Promise<string> {
  const { rows } = await app.db.pool.query<{ h: string }>('SELECT password_hash AS h FROM users WHERE id = $1', [
    userId,
  ]);
  return rows[0].h;
}

describe('wrong current passwords count as failed password checks (THROTTLE_LOGIN_PER_EMAIL=10/900)', () => {
  let apps: TestApp[] = [];
  const at = (i: number) => apps[i % apps.length];

  beforeAll(async () => {
    apps = await startReplicas(2, { ...NO_THROTTLING, THROTTLE_LOGIN_PER_EMAIL: '10/900' });
  });
  afterAll(() => closeReplicas(apps));

  it('ends 30 wrong current passwords in 429, then refuses the right one on both routes', async () => {
    const ada = await registerUser(at(0).api);
    const before = await passwordHash(at(0), ada.user.id);

    const answers: Response[] = [];
    for (let i = 0; i < 30; i++) {
      answers.push(await changePassword(at(i), ada.accessToken, `wrong ${i}`, 'a brand new password'));
    }
    const rightChange = await changePassword(at(0), ada.accessToken, ada.password, 'a brand new password');
    const rightLogin = await signIn(at(1), ada.user.email, ada.password);

    expect(answers.map((res) => res.status)).toEqual([...Array(10).fill(403), ...Array(20).fill(429)]);
    for (const res of [...answers.slice(10), rightChange, rightLogin]) expectProblem(res, 429);
    expect(rightLogin.body.accessToken).toBeUndefined();
    expect(await passwordHash(at(0), ada.user.id)).toBe(before);
    for (const res of [...answers.slice(10), rightChange, rightLogin]) expectRetryAfter(res, 900);
  });

  it('shares one counter with failed logins, whatever the letter case of the email typed', async () => {
    const ada = await registerUser(at(0).api);
    for (let i = 0; i < 5; i++)
      expect((await signIn(at(i), ada.user.email.toUpperCase(), `wrong ${i}`)).status).toBe(401);
    for (let i = 0; i < 5; i++) {
      expect((await changePassword(at(i), ada.accessToken, `wrong ${i}`, 'a brand new password')).status).toBe(403);
    }

    expectProblem(await changePassword(at(0), ada.accessToken, ada.password, 'a brand new password'), 429);
    expectProblem(await signIn(at(1), ada.user.email, ada.password), 429);
  });

  it('clears the count when the current password is right', async () => {
    const ada = await registerUser(at(0).api);
    for (let i = 0; i < 9; i++) {
      expect((await changePassword(at(i), ada.accessToken, `wrong ${i}`, 'a brand new password')).status).toBe(403);
    }
    expect((await changePassword(at(1), ada.accessToken, ada.password, 'a brand new password')).status).toBe(204);

    for (let i = 0; i < 9; i++) expect((await signIn(at(i), ada.user.email, `wrong ${i}`)).status).toBe(401);
    expect((await signIn(at(0), ada.user.email, 'a brand new password')).status).toBe(200);
  });
});

describe('password changes per user (THROTTLE_PASSWORD_CHANGE_PER_USER=3/60)', () => {
  let apps: TestApp[] = [];
  const at = (i: number) => apps[i % apps.length];

  beforeAll(async () => {
    apps = await startReplicas(2, { ...NO_THROTTLING, THROTTLE_PASSWORD_CHANGE_PER_USER: '3/60' });
  });
  afterAll(() => closeReplicas(apps));

  it('allows 3 changes in total across processes, then 429 even with the right password; others are unaffected', async () => {
    const ada = await registerUser(at(0).api);
    const bob = await registerUser(at(0).api);
    let current = ada.password;
    for (let i = 0; i < 3; i++) {
      const next = `new password number ${i}`;
      expect((await changePassword(at(i), ada.accessToken, current, next)).status).toBe(204);
      current = next;
    }
    const hash = await passwordHash(at(0), ada.user.id);

    const refused = await changePassword(at(1), ada.accessToken, current, 'one change too many');
    expectProblem(refused, 429);
    expect(await passwordHash(at(0), ada.user.id)).toBe(hash);
    expect((await signIn(at(0), ada.user.email, current)).status).toBe(200);
    expect((await changePassword(at(1), bob.accessToken, bob.password, 'bob changes his too')).status).toBe(204);
    expectRetryAfter(refused, 60);
  });
});
