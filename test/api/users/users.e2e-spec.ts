import { randomUUID } from 'node:crypto';
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
import { startTestApp, type TestApp } from '../../support/app';

describe('users', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ env: NO_THROTTLING });
  });
  afterAll(() => t.close());

  const me = (accessToken: string) => t.api.get(`${API}/users/me`).auth(accessToken, { type: 'bearer' });
  const patchMe = (accessToken: string, body: unknown) =>
    t.api
      .patch(`${API}/users/me`)
      .auth(accessToken, { type: 'bearer' })
      .send(body as object);
  const changePassword = (accessToken: string, body: unknown) =>
    t.api
      .put(`${API}/users/me/password`)
      .auth(accessToken, { type: 'bearer' })
      .send(body as object);
  const refresh = (refreshToken: string) => t.api.post(`${API}/auth/refresh`).send({ refreshToken });
  const signIn = (email: string, password: string) => t.api.post(`${API}/auth/login`).send({ email, password });

  async function userRow(id: string) {
    const { rows } = await t.db.pool.query<{
      email: string;
      name: string;
      password_hash: string;
      created_at: Date;
      updated_at: Date;
    }>('SELECT email, name, password_hash, created_at, updated_at FROM users WHERE id = $1', [id]);
    return rows[0];
  }

  async function countFor(table: 'users' | 'sessions' | 'tasks' | 'idempotency_keys', userId: string) {
    const column = table === 'users' ? 'id' : 'user_id';
    const { rows } = await t.db.pool.query<{ n: string }>(`SELECT count(*) AS n FROM ${table} WHERE ${column} = $1`, [
      userId,
    ]);
    return Number(rows[0].n);
  }

  describe('GET /users/me', () => {
    it('returns exactly the public fields of the signed-in user', async () => {
      const ada = await registerUser(t.api, { name: 'Ada' });
      const res = await me(ada.accessToken);

      expect(res.status).toBe(200);
      expect(res.body).toEqual(ada.user);
      expect(Object.keys(res.body).sort()).toEqual(['createdAt', 'email', 'id', 'name', 'updatedAt']);
      const row = await userRow(ada.user.id);
      expect(res.body).toEqual({
        id: ada.user.id,
        email: row.email,
        name: row.name,
        createdAt: row.created_at.toISOString(),
        updatedAt: row.updated_at.toISOString(),
      });
    });

    it('answers 401 without a token', async () => {
      expectUnauthorized(await t.api.get(`${API}/users/me`));
    });
  });

  describe('PATCH /users/me', () => {
    it('changes name and email, trimmed and lower-cased, and the new email signs in', async () => {
      const ada = await registerUser(t.api, { name: 'Ada' });
      const newEmail = uniqueEmail('ada.king');

      const res = await patchMe(ada.accessToken, { name: '  Ada King  ', email: `  ${newEmail.toUpperCase()} ` });

      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        id: ada.user.id,
        email: newEmail,
        name: 'Ada King',
        createdAt: ada.user.createdAt,
        updatedAt: expect.any(String),
      });
      const row = await userRow(ada.user.id);
      expect(row).toEqual(expect.objectContaining({ email: newEmail, name: 'Ada King' }));
      expect(row.updated_at.getTime()).toBeGreaterThan(row.created_at.getTime());
      expect(res.body.updatedAt).toBe(row.updated_at.toISOString());
      expect((await me(ada.accessToken)).body).toEqual(res.body);

      expect((await signIn(newEmail, ada.password)).status).toBe(200);
      expectProblem(await signIn(ada.user.email, ada.password), 401);
    });

    it('changes only the name when only the name is sent', async () => {
      const ada = await registerUser(t.api, { name: 'Ada' });
      const res = await patchMe(ada.accessToken, { name: 'Countess' });

      expect(res.status).toBe(200);
      expect(res.body).toEqual({ ...ada.user, name: 'Countess', updatedAt: expect.any(String) });
      expect(await userRow(ada.user.id)).toEqual(expect.objectContaining({ email: ada.user.email, name: 'Countess' }));
    });

    it('accepts the own email in another letter case', async () => {
      const ada = await registerUser(t.api);
      const res = await patchMe(ada.accessToken, { email: ada.user.email.toUpperCase() });

      expect(res.status).toBe(200);
      expect(res.body.email).toBe(ada.user.email);
      expect((await userRow(ada.user.id)).email).toBe(ada.user.email);
    });

    it('answers 409 for an email that belongs to another user, in another letter case, changing nothing', async () => {
      const ada = await registerUser(t.api, { name: 'Ada' });
      const bob = await registerUser(t.api, { name: 'Bob' });

      const res = await patchMe(ada.accessToken, { name: 'Renamed', email: ` ${bob.user.email.toUpperCase()}` });

      expectProblem(res, 409);
      expect(await userRow(ada.user.id)).toEqual(expect.objectContaining({ email: ada.user.email, name: 'Ada' }));
      expect(await userRow(bob.user.id)).toEqual(expect.objectContaining({ email: bob.user.email, name: 'Bob' }));
    });

    it('answers 400 for an empty body, changing nothing', async () => {
      const ada = await registerUser(t.api, { name: 'Ada' });
      const before = await userRow(ada.user.id);

      expectProblem(await patchMe(ada.accessToken, {}), 400);
      expect(await userRow(ada.user.id)).toEqual(before);
    });

    it('answers 400 for a request without a body, changing nothing', async () => {
      const ada = await registerUser(t.api, { name: 'Ada' });
      const before = await userRow(ada.user.id);

      expectProblem(await t.api.patch(`${API}/users/me`).auth(ada.accessToken, { type: 'bearer' }), 400);
      expect(await userRow(ada.user.id)).toEqual(before);
    });

    it.each([
      ['a null name', { name: null }, 'name'],
      ['a null email', { email: null }, 'email'],
      ['an empty name', { name: '' }, 'name'],
      ['a name of only spaces', { name: '   ' }, 'name'],
      ['a 101-character name', { name: 'n'.repeat(101) }, 'name'],
      ['a number as name', { name: 7 }, 'name'],
      ['an invalid email', { email: 'ada-at-example.com' }, 'email'],
      ['an unknown field', { role: 'admin' }, 'role'],
      ['the password among the fields', { name: 'Ada', password: 'a new password' }, 'password'],
      ['an id among the fields', { id: '00000000-0000-4000-8000-000000000000' }, 'id'],
    ])('answers 400 for %s, changing nothing', async (_label, body, field) => {
      const ada = await registerUser(t.api, { name: 'Ada' });
      const before = await userRow(ada.user.id);

      const res = await patchMe(ada.accessToken, body);

      expectProblem(res, 400);
      expect(res.body.errors).toEqual([{ field, message: expect.any(String) }]);
      expect(await userRow(ada.user.id)).toEqual(before);
    });

    it.each([
      ['an array', '[]'],
      ['a string', '"Ada"'],
      ['null', 'null'],
    ])('answers 400 for %s as the body, changing nothing', async (_label, raw) => {
      const ada = await registerUser(t.api, { name: 'Ada' });
      const before = await userRow(ada.user.id);

      const res = await t.api
        .patch(`${API}/users/me`)
        .auth(ada.accessToken, { type: 'bearer' })
        .set('Content-Type', 'application/json')
        .send(raw);

      expectProblem(res, 400);
      expect(await userRow(ada.user.id)).toEqual(before);
    });

    it('answers 401 without a token', async () => {
      expectUnauthorized(await t.api.patch(`${API}/users/me`).send({ name: 'Nobody' }));
    });
  });

  describe('PUT /users/me/password', () => {
    const newPassword = 'a brand new passphrase';

    it('answers 204; the old password stops working and the new one signs in', async () => {
      const ada = await registerUser(t.api);
      const before = await userRow(ada.user.id);

      const res = await changePassword(ada.accessToken, { currentPassword: ada.password, newPassword });

      expect(res.status).toBe(204);
      expect(res.text).toBe('');
      const after = await userRow(ada.user.id);
      expect(after.password_hash).not.toBe(before.password_hash);
      expect(after.password_hash).toMatch(/^\$argon2id\$/);
      expect(after.password_hash).not.toContain(newPassword);
      expectProblem(await signIn(ada.user.email, ada.password), 401);
      expect((await signIn(ada.user.email, newPassword)).status).toBe(200);
    });

    it('revokes every other session while the calling session keeps working', async () => {
      const ada = await registerUser(t.api);
      const phone = await login(t.api, ada.user.email, ada.password);
      const laptop = await login(t.api, ada.user.email, ada.password);
      const bob = await registerUser(t.api);

      expect((await changePassword(ada.accessToken, { currentPassword: ada.password, newPassword })).status).toBe(204);

      for (const other of [phone, laptop]) {
        expectUnauthorized(await me(other.accessToken));
        expectUnauthorized(await refresh(other.refreshToken));
      }
      const sessions = await sessionsOf(t.db.pool, ada.user.id);
      expect(sessions.map((s) => s.revoked_at === null)).toEqual([true, false, false]);

      expect((await me(ada.accessToken)).status).toBe(200);
      const renewed = await refresh(ada.refreshToken);
      expect(renewed.status).toBe(200);
      expect((await me(renewed.body.accessToken)).status).toBe(200);

      expect((await me(bob.accessToken)).status).toBe(200);
      expect((await sessionsOf(t.db.pool, bob.user.id))[0].revoked_at).toBeNull();
    });

    it('answers 403 for a wrong current password, changing nothing and signing nobody out', async () => {
      const ada = await registerUser(t.api);
      const phone = await login(t.api, ada.user.email, ada.password);
      const before = await userRow(ada.user.id);

      const res = await changePassword(ada.accessToken, { currentPassword: 'not the password', newPassword });

      expectProblem(res, 403);
      expect((await userRow(ada.user.id)).password_hash).toBe(before.password_hash);
      expect((await sessionsOf(t.db.pool, ada.user.id)).every((s) => s.revoked_at === null)).toBe(true);
      expect((await me(phone.accessToken)).status).toBe(200);
      expect((await signIn(ada.user.email, ada.password)).status).toBe(200);
    });

    it.each([
      ['a 7-character new password', { newPassword: 'x'.repeat(7) }, 'newPassword'],
      ['a 129-character new password', { newPassword: 'x'.repeat(129) }, 'newPassword'],
      ['a missing new password', { newPassword: undefined }, 'newPassword'],
      ['a missing current password', { currentPassword: undefined }, 'currentPassword'],
      ['a number as new password', { newPassword: 123456789 }, 'newPassword'],
      ['an unknown field', { confirmPassword: 'a brand new passphrase' }, 'confirmPassword'],
    ])('answers 400 for %s, changing nothing', async (_label, change, field) => {
      const ada = await registerUser(t.api);
      const phone = await login(t.api, ada.user.email, ada.password);
      const before = await userRow(ada.user.id);

      const res = await changePassword(ada.accessToken, { currentPassword: ada.password, newPassword, ...change });

      expectProblem(res, 400);
      expect(res.body.errors).toEqual([{ field, message: expect.any(String) }]);
      expect((await userRow(ada.user.id)).password_hash).toBe(before.password_hash);
      expect((await me(phone.accessToken)).status).toBe(200);
    });

    it('never writes the current or the new password to the logs', async () => {
      const current = `current-${randomUUID()}`;
      const next = `next-${randomUUID()}`;
      const ada = await registerUser(t.api, { password: current });
      const run = randomUUID();
      const put = (n: number, body: object) =>
        t.api
          .put(`${API}/users/me/password`)
          .auth(ada.accessToken, { type: 'bearer' })
          .set('X-Request-Id', `${run}-${n}`)
          .send(body);

      expectProblem(await put(1, { currentPassword: current, newPassword: 'short' }), 400);
      expectProblem(await put(2, { currentPassword: next, newPassword: current }), 403);
      expect((await put(3, { currentPassword: current, newPassword: next })).status).toBe(204);
      await t.api.get('/health/live').set('X-Request-Id', `${run}-marker`);
      await untilLogged(t, `${run}-marker`);

      const ours = t.logs.filter((line) => String(line.reqId).startsWith(run));
      expect(ours.map((line) => line.status)).toEqual([400, 403, 204, 200]);
      for (const line of t.logs) {
        for (const secret of [current, next, ada.accessToken, ada.refreshToken]) expect(line.raw).not.toContain(secret);
      }
    });

    it('answers 401 without a token', async () => {
      expectUnauthorized(
        await t.api.put(`${API}/users/me/password`).send({ currentPassword: 'whatever1', newPassword }),
      );
    });
  });

  describe('DELETE /users/me', () => {
    async function createTask(account: Account, title: string, idempotencyKey?: string) {
      const res = await t.api
        .post(`${API}/tasks`)
        .auth(account.accessToken, { type: 'bearer' })
        .set(idempotencyKey ? { 'Idempotency-Key': idempotencyKey } : {})
        .send({ title });
      expect(res.status).toBe(201);
    }

    it('answers 204 and removes the user with its sessions, tasks and idempotency keys; its tokens get 401', async () => {
      const ada = await registerUser(t.api);
      const phone = await login(t.api, ada.user.email, ada.password);
      await createTask(ada, 'Write the report');
      await createTask(ada, 'Review the report', 'ada-create-1');
      const bob = await registerUser(t.api);
      await createTask(bob, "Bob's own task", 'bob-create-1');
      expect(await countFor('tasks', ada.user.id)).toBe(2);
      expect(await countFor('sessions', ada.user.id)).toBe(2);
      expect(await countFor('idempotency_keys', ada.user.id)).toBe(1);

      const res = await t.api.delete(`${API}/users/me`).auth(ada.accessToken, { type: 'bearer' });

      expect(res.status).toBe(204);
      expect(res.text).toBe('');
      expect(await countFor('users', ada.user.id)).toBe(0);
      expect(await countFor('sessions', ada.user.id)).toBe(0);
      expect(await countFor('tasks', ada.user.id)).toBe(0);
      expect(await countFor('idempotency_keys', ada.user.id)).toBe(0);

      expectUnauthorized(await me(ada.accessToken));
      expectUnauthorized(await me(phone.accessToken));
      expectUnauthorized(await refresh(ada.refreshToken));
      expectUnauthorized(await refresh(phone.refreshToken));
      expectUnauthorized(await t.api.delete(`${API}/users/me`).auth(ada.accessToken, { type: 'bearer' }));
      expectProblem(await signIn(ada.user.email, ada.password), 401);

      expect(await countFor('users', bob.user.id)).toBe(1);
      expect(await countFor('sessions', bob.user.id)).toBe(1);
      expect(await countFor('tasks', bob.user.id)).toBe(1);
      expect(await countFor('idempotency_keys', bob.user.id)).toBe(1);
      expect((await me(bob.accessToken)).status).toBe(200);
    });

    it('frees the email for a new account', async () => {
      const ada = await registerUser(t.api);
      expect((await t.api.delete(`${API}/users/me`).auth(ada.accessToken, { type: 'bearer' })).status).toBe(204);

      const again = await registerUser(t.api, { email: ada.user.email });
      expect(again.user.id).not.toBe(ada.user.id);
      expectUnauthorized(await me(ada.accessToken));
      expect((await me(again.accessToken)).status).toBe(200);
    });

    it('answers 401 without a token, deleting nothing', async () => {
      const before = Number((await t.db.pool.query<{ n: string }>('SELECT count(*) AS n FROM users')).rows[0].n);
      expectUnauthorized(await t.api.delete(`${API}/users/me`));
      expect(Number((await t.db.pool.query<{ n: string }>('SELECT count(*) AS n FROM users')).rows[0].n)).toBe(before);
    });
  });
});
