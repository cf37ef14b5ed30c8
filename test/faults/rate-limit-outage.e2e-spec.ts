import { startTestApp, type TestApp } from '../support/app';
import type { TestDatabase } from '../support/database';
import {
  call,
  FAST_APP_ENV,
  isRetryable503,
  migratedDatabase,
  registerUser,
  waitFor,
  type Outcome,
} from '../support/faults';
import { PostgresServer } from '../support/postgres-server';

// The rate limits are counted in PostgreSQL: with the database down a limited route can count nothing,
// and answers like every other route in an outage, never 500 and never unlimited.
describe('rate-limited routes with the database down', () => {
  let pg: PostgresServer;
  let db: TestDatabase;
  let t: TestApp;

  beforeAll(async () => {
    pg = await PostgresServer.start();
    db = await migratedDatabase(pg);
    t = await startTestApp({
      db,
      env: {
        ...FAST_APP_ENV,
        THROTTLE_LOGIN_PER_IP: '20/60',
        THROTTLE_LOGIN_PER_EMAIL: '10/900',
        THROTTLE_REFRESH_PER_IP: '60/60',
        THROTTLE_PASSWORD_CHANGE_PER_USER: '5/900',
      },
    });
  });
  afterAll(async () => {
    await t?.close();
    await db?.drop();
    await pg?.close();
  });

  it('answers 503 problem+json with Retry-After, before the body is even validated, and counts again once back', async () => {
    const { token } = await registerUser(t.url, 'limits@example.com');
    const login = (body: unknown) => call(t.url, '/api/v1/auth/login', { method: 'POST', body });
    const change = () =>
      call(t.url, '/api/v1/users/me/password', {
        method: 'PUT',
        token,
        body: { currentPassword: 'wrong password', newPassword: 'a brand new password' },
      });

    await pg.stop();
    const down = [
      await login({ email: 'limits@example.com', password: 'wrong password' }),
      await login({ email: 'not an email' }),
      await call(t.url, '/api/v1/auth/refresh', { method: 'POST', body: { refreshToken: 'x' } }),
    ];
    await pg.startAgain();
    let back: Outcome | undefined;
    await waitFor(
      async () => {
        back = await login({ email: 'limits@example.com', password: 'wrong password' });
        return back.status !== 503;
      },
      'a login answered with the database back',
      15_000,
      250,
    );

    expect(down.map((outcome) => [outcome.status, isRetryable503(outcome)])).toEqual([
      [503, true],
      [503, true],
      [503, true],
    ]);
    expect(back?.status).toBe(401);
    const { rows } = await db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM rate_limits');
    expect(rows[0].n).toBeGreaterThan(0);
    expect((await change()).status).toBe(403);
    expect(t.logs.filter((line) => line.status === 500)).toEqual([]);
  });
});
