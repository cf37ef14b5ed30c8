import { randomUUID } from 'node:crypto';
import { startTestApp, type TestApp } from '../../support/app';
import {
  API,
  expectProblem,
  expectUnauthorized,
  NO_THROTTLING,
  registerUser,
  sessionsOf,
  uniqueEmail,
  type Session,
} from '../../support/auth';

const PASSWORD = 'correct horse battery staple';
const ENDED = 'The session has ended; sign in again';

interface Device extends Session {
  sessionId: string;
}

const sessionIdOf = (accessToken: string): string =>
  (JSON.parse(Buffer.from(accessToken.split('.')[1], 'base64url').toString()) as { sid: string }).sid;

describe('session management (/auth/sessions)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ env: NO_THROTTLING });
  });
  afterAll(() => t.close());

  const list = (token: string) => t.api.get(`${API}/auth/sessions`).auth(token, { type: 'bearer' });
  const end = (token: string, id: string) => t.api.delete(`${API}/auth/sessions/${id}`).auth(token, { type: 'bearer' });
  const endOthers = (token: string) => t.api.delete(`${API}/auth/sessions`).auth(token, { type: 'bearer' });
  const me = (token: string) => t.api.get(`${API}/users/me`).auth(token, { type: 'bearer' });
  const refresh = (refreshToken: string) => t.api.post(`${API}/auth/refresh`).send({ refreshToken });

  /** A user signed in on three devices, each with its own User-Agent. */
  async function userWithDevices(): Promise<{ email: string; phone: Device; laptop: Device; tablet: Device }> {
    const email = uniqueEmail('devices');
    const signIn = async (userAgent: string, path: 'register' | 'login'): Promise<Device> => {
      const body = path === 'register' ? { email, password: PASSWORD, name: 'Devices' } : { email, password: PASSWORD };
      const res = await t.api.post(`${API}/auth/${path}`).set('User-Agent', userAgent).send(body);
      expect(res.status).toBe(path === 'register' ? 201 : 200);
      const { accessToken, refreshToken } = res.body as Session;
      return { accessToken, refreshToken, sessionId: sessionIdOf(accessToken) };
    };
    const phone = await signIn('phone/1.0', 'register');
    const laptop = await signIn('laptop/1.0', 'login');
    const tablet = await signIn('tablet/1.0', 'login');
    return { email, phone, laptop, tablet };
  }

  describe('GET /auth/sessions', () => {
    it("lists the caller's active sessions, most recently used first, marking the current one", async () => {
      const { phone, laptop, tablet } = await userWithDevices();
      const renewed = await refresh(phone.refreshToken);
      expect(renewed.status).toBe(200);
      await registerUser(t.api);

      const res = await list(laptop.accessToken);

      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      const rows = new Map((await storedSessions(phone.sessionId)).map((row) => [row.id, row]));
      const expected = (device: Device, userAgent: string, current: boolean) => {
        const row = rows.get(device.sessionId)!;
        return {
          id: device.sessionId,
          createdAt: row.created_at.toISOString(),
          lastUsedAt: row.last_used_at.toISOString(),
          expiresAt: row.expires_at.toISOString(),
          userAgent,
          ip: '127.0.0.1',
          current,
        };
      };
      expect(res.body).toEqual([
        expected(phone, 'phone/1.0', false),
        expected(tablet, 'tablet/1.0', false),
        expected(laptop, 'laptop/1.0', true),
      ]);
    });

    it('leaves out ended and expired sessions', async () => {
      const { phone, laptop, tablet } = await userWithDevices();
      expect((await t.api.post(`${API}/auth/logout`).auth(tablet.accessToken, { type: 'bearer' })).status).toBe(204);
      await t.db.pool.query(`UPDATE sessions SET expires_at = now() - interval '1 second' WHERE id = $1`, [
        phone.sessionId,
      ]);

      const res = await list(laptop.accessToken);

      expect(res.status).toBe(200);
      expect(res.body.map((s: { id: string }) => s.id)).toEqual([laptop.sessionId]);
    });

    it('answers 401 without a valid access token', async () => {
      expectUnauthorized(await t.api.get(`${API}/auth/sessions`));
      expectUnauthorized(await list('not-a-token'));
    });
  });

  describe('DELETE /auth/sessions/{id}', () => {
    it('ends that session at once: its access token gets 401 on the very next request, its refresh token too; the others work', async () => {
      const { phone, laptop, tablet } = await userWithDevices();
      expect((await me(phone.accessToken)).status).toBe(200);

      const res = await end(laptop.accessToken, phone.sessionId);

      expect(res.status).toBe(204);
      expect(res.text).toBe('');
      const gone = await me(phone.accessToken);
      expectUnauthorized(gone);
      expect(gone.body.detail).toBe(ENDED);
      expectUnauthorized(await refresh(phone.refreshToken));
      expect((await storedSessions(phone.sessionId)).map((s) => [s.id, s.revoked_at !== null])).toEqual(
        expect.arrayContaining([
          [phone.sessionId, true],
          [laptop.sessionId, false],
          [tablet.sessionId, false],
        ]),
      );
      expect((await me(laptop.accessToken)).status).toBe(200);
      expect((await refresh(tablet.refreshToken)).status).toBe(200);
      expect((await list(laptop.accessToken)).body.map((s: { id: string }) => s.id).sort()).toEqual(
        [laptop.sessionId, tablet.sessionId].sort(),
      );
    });

    it('lets the current session end itself', async () => {
      const { laptop, tablet } = await userWithDevices();

      expect((await end(laptop.accessToken, laptop.sessionId)).status).toBe(204);

      expectUnauthorized(await me(laptop.accessToken));
      expectUnauthorized(await refresh(laptop.refreshToken));
      expect((await me(tablet.accessToken)).status).toBe(200);
    });

    it("answers 404 for another user's session and leaves that session working", async () => {
      const alice = await userWithDevices();
      const bob = await registerUser(t.api);

      const res = await end(bob.accessToken, alice.phone.sessionId);

      expectProblem(res, 404, `${API}/auth/sessions/${alice.phone.sessionId}`);
      const [row] = (await storedSessions(alice.phone.sessionId)).filter((s) => s.id === alice.phone.sessionId);
      expect(row.revoked_at).toBeNull();
      expect((await me(alice.phone.accessToken)).status).toBe(200);
      expect((await refresh(alice.phone.refreshToken)).status).toBe(200);
      expect((await me(bob.accessToken)).status).toBe(200);
    });

    it('answers 404 for an unknown id and for a session that has already ended', async () => {
      const { phone, laptop } = await userWithDevices();
      expectProblem(await end(laptop.accessToken, randomUUID()), 404);
      expect((await end(laptop.accessToken, phone.sessionId)).status).toBe(204);
      expectProblem(await end(laptop.accessToken, phone.sessionId), 404);
    });

    it('answers 400 for an id that is not a UUID, ending nothing', async () => {
      const { phone, laptop } = await userWithDevices();
      const res = await end(laptop.accessToken, 'not-a-uuid');
      expectProblem(res, 400);
      expect(res.body.detail).toBe('The session id must be a UUID');
      expect((await storedSessions(phone.sessionId)).every((s) => s.revoked_at === null)).toBe(true);
    });

    it('answers 401 without a valid access token, ending nothing', async () => {
      const { phone } = await userWithDevices();
      expectUnauthorized(await t.api.delete(`${API}/auth/sessions/${phone.sessionId}`));
      expect((await me(phone.accessToken)).status).toBe(200);
    });
  });

  describe('DELETE /auth/sessions', () => {
    it("ends every session of the caller but the current one, and no other user's", async () => {
      const { phone, laptop, tablet } = await userWithDevices();
      const bob = await registerUser(t.api);

      const res = await endOthers(laptop.accessToken);

      expect(res.status).toBe(204);
      expect(res.text).toBe('');
      for (const device of [phone, tablet]) {
        expectUnauthorized(await me(device.accessToken));
        expectUnauthorized(await refresh(device.refreshToken));
      }
      expect((await me(laptop.accessToken)).status).toBe(200);
      const listed = await list(laptop.accessToken);
      expect(listed.body).toEqual([expect.objectContaining({ id: laptop.sessionId, current: true })]);
      expect((await me(bob.accessToken)).status).toBe(200);
      expect((await sessionsOf(t.db.pool, bob.user.id)).map((s) => s.revoked_at)).toEqual([null]);
      expect((await refresh(laptop.refreshToken)).status).toBe(200);
    });

    it('answers 204 when there is no other session', async () => {
      const ada = await registerUser(t.api);
      expect((await endOthers(ada.accessToken)).status).toBe(204);
      expect((await me(ada.accessToken)).status).toBe(200);
    });

    it('answers 401 without a valid access token', async () => {
      expectUnauthorized(await t.api.delete(`${API}/auth/sessions`));
    });
  });

  it('are described in the OpenAPI document with their responses and the session schema', async () => {
    const doc = (await t.api.get('/docs-json')).body;
    const collection = doc.paths[`${API}/auth/sessions`];
    const item = doc.paths[`${API}/auth/sessions/{id}`];
    const statuses = (operation: { responses: object }) => Object.keys(operation.responses).sort();

    // Besides each operation's own: 400, 408, 431, 500 and 503 on every one, 413 and 415 where a body can come.
    expect(statuses(collection.get)).toEqual(['200', '400', '401', '408', '431', '500', '503']);
    expect(collection.get.responses['200'].content['application/json'].schema).toEqual({
      type: 'array',
      items: { $ref: '#/components/schemas/SessionDto' },
    });
    expect(collection.get.security).toEqual([{ bearer: [] }]);
    expect(statuses(collection.delete)).toEqual(['204', '400', '401', '408', '413', '415', '431', '500', '503']);
    expect(statuses(item.delete)).toEqual(['204', '400', '401', '404', '408', '413', '415', '431', '500', '503']);
    expect(item.delete.parameters).toEqual([
      expect.objectContaining({ name: 'id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } }),
    ]);
    expect(item.delete.responses['404'].content['application/problem+json'].schema).toEqual({
      $ref: '#/components/schemas/ProblemDetailsDto',
    });
    const session = doc.components.schemas.SessionDto;
    expect(Object.keys(session.properties).sort()).toEqual(
      ['id', 'createdAt', 'lastUsedAt', 'expiresAt', 'userAgent', 'ip', 'current'].sort(),
    );
    expect(session.properties.userAgent).toEqual(expect.objectContaining({ type: 'string', nullable: true }));
    expect(session.properties.current).toEqual(expect.objectContaining({ type: 'boolean' }));
  });

  /** Every session of the user who owns `sessionId`. */
  async function storedSessions(sessionId: string) {
    const { rows } = await t.db.pool.query<{
      id: string;
      created_at: Date;
      last_used_at: Date;
      expires_at: Date;
      revoked_at: Date | null;
    }>(
      `SELECT id, created_at, last_used_at, expires_at, revoked_at FROM sessions
        WHERE user_id = (SELECT user_id FROM sessions WHERE id = $1) ORDER BY created_at`,
      [sessionId],
    );
    return rows;
  }
});
