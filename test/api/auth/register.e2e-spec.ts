import { startTestApp, type TestApp } from '../../support/app';
import { API, claimsOf, expectProblem, NO_THROTTLING, registerUser, sessionsOf, uniqueEmail } from '../../support/auth';

const PASSWORD = 'correct horse battery staple';
const USER_AGENT = 'auth-e2e/1.0';

let t: TestApp;

beforeAll(async () => {
  t = await startTestApp({ env: NO_THROTTLING });
});
afterAll(() => t.close());

const register = (body: unknown) =>
  t.api
    .post(`${API}/auth/register`)
    .set('User-Agent', USER_AGENT)
    .send(body as object);
const me = (accessToken: string) => t.api.get(`${API}/users/me`).auth(accessToken, { type: 'bearer' });
const userCount = async (email: string) =>
  Number(
    (await t.db.pool.query<{ n: string }>('SELECT count(*) AS n FROM users WHERE lower(email) = lower($1)', [email]))
      .rows[0].n,
  );
const totalUsers = async () =>
  Number((await t.db.pool.query<{ n: string }>('SELECT count(*) AS n FROM users')).rows[0].n);

describe('POST /auth/register', () => {
  it('creates the user with a trimmed, lower-cased email and trimmed name, and signs it in', async () => {
    const email = uniqueEmail('ada');
    const res = await register({ email: `  ${email.toUpperCase()}  `, password: PASSWORD, name: '  Ada Lovelace  ' });

    expect(res.status).toBe(201);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.body).toEqual({
      user: {
        id: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/),
        email,
        name: 'Ada Lovelace',
        createdAt: expect.any(String),
        updatedAt: expect.any(String),
      },
      accessToken: expect.any(String),
      refreshToken: expect.any(String),
      tokenType: 'Bearer',
      expiresIn: 900,
    });
    expect(new Date(res.body.user.createdAt).toISOString()).toBe(res.body.user.createdAt);
    expect(new Date(res.body.user.updatedAt).toISOString()).toBe(res.body.user.updatedAt);

    const { rows: users } = await t.db.pool.query(
      'SELECT id, email, name, created_at, updated_at FROM users WHERE id = $1',
      [res.body.user.id],
    );
    expect(users).toEqual([
      {
        id: res.body.user.id,
        email,
        name: 'Ada Lovelace',
        created_at: new Date(res.body.user.createdAt),
        updated_at: new Date(res.body.user.updatedAt),
      },
    ]);
    const sessions = await sessionsOf(t.db.pool, res.body.user.id);
    expect(sessions).toHaveLength(1);
    expect(sessions[0]).toEqual(expect.objectContaining({ revoked_at: null, user_agent: USER_AGENT, ip: '127.0.0.1' }));
    const ttl = await t.db.pool.query<{ s: number }>(
      'SELECT extract(epoch FROM expires_at - created_at)::float8 AS s FROM sessions WHERE id = $1',
      [sessions[0].id],
    );
    expect(Math.abs(ttl.rows[0].s - 30 * 24 * 3600)).toBeLessThan(60);

    const claims = claimsOf(res.body.accessToken);
    expect(claims).toEqual(expect.objectContaining({ sub: res.body.user.id, iss: 'tasks-api', aud: 'tasks-api' }));
    expect(Object.values(claims)).toContain(sessions[0].id);
    expect(claims.exp - claims.iat).toBe(900);

    const profile = await me(res.body.accessToken);
    expect(profile.status).toBe(200);
    expect(profile.body).toEqual(res.body.user);
  });

  it.each([
    ['8 characters', 'x'.repeat(8)],
    ['128 characters', 'x'.repeat(128)],
  ])('accepts a password of %s', async (_label, password) => {
    const email = uniqueEmail();
    const res = await register({ email, password, name: 'Boundary' });
    expect(res.status).toBe(201);
    expect(await userCount(email)).toBe(1);
  });

  it.each([
    ['a 7-character password', { password: 'x'.repeat(7) }, 'password'],
    ['a 129-character password', { password: 'x'.repeat(129) }, 'password'],
    ['an email without @', { email: 'not-an-email' }, 'email'],
    ['an email without a domain', { email: 'ada@' }, 'email'],
    ['an email without a local part', { email: '@example.com' }, 'email'],
    ['an empty email', { email: '' }, 'email'],
    [
      'an email over 254 characters',
      { email: `${'a'.repeat(64)}@${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(63)}.com` },
      'email',
    ],
    ['an empty name', { name: '' }, 'name'],
    ['a name of only spaces', { name: '   ' }, 'name'],
    ['a 101-character name', { name: 'n'.repeat(101) }, 'name'],
    ['a number as email', { email: 42 }, 'email'],
    ['a number as password', { password: 12345678 }, 'password'],
    ['an array as name', { name: ['Ada'] }, 'name'],
    ['a boolean as name', { name: true }, 'name'],
    ['null as password', { password: null }, 'password'],
    ['a missing email', { email: undefined }, 'email'],
    ['a missing password', { password: undefined }, 'password'],
    ['a missing name', { name: undefined }, 'name'],
    ['an unknown field', { role: 'admin' }, 'role'],
  ])('rejects %s with 400 naming the field, creating nothing', async (_label, change, field) => {
    const before = await totalUsers();
    const res = await register({ email: uniqueEmail(), password: PASSWORD, name: 'Invalid', ...change });

    expectProblem(res, 400);
    expect(res.body.errors).toEqual([{ field, message: expect.any(String) }]);
    expect(await totalUsers()).toBe(before);
  });

  it('names every missing field of an empty object', async () => {
    const res = await register({});
    expectProblem(res, 400);
    expect(res.body.errors.map((e: { field: string }) => e.field).sort()).toEqual(['email', 'name', 'password']);
    for (const error of res.body.errors)
      expect(error).toEqual({ field: expect.any(String), message: expect.any(String) });
  });

  it.each([
    ['an array', '[]'],
    ['an array of the right object', JSON.stringify([{ email: 'x@example.com', password: PASSWORD, name: 'X' }])],
    ['a string', '"ada@example.com"'],
    ['a number', '42'],
    ['null', 'null'],
  ])('rejects %s as the body with 400', async (_label, raw) => {
    const before = await totalUsers();
    const res = await t.api.post(`${API}/auth/register`).set('Content-Type', 'application/json').send(raw);

    expectProblem(res, 400);
    expect(res.body.errors).toEqual(
      expect.arrayContaining([{ field: expect.any(String), message: expect.any(String) }]),
    );
    expect(await totalUsers()).toBe(before);
  });

  it('answers 409 for an email that exists in another letter case, leaving one account and one session', async () => {
    const first = await registerUser(t.api);
    const res = await register({
      email: ` ${first.user.email.toUpperCase()} `,
      password: 'another password',
      name: 'Twin',
    });

    expectProblem(res, 409);
    expect(await userCount(first.user.email)).toBe(1);
    expect(await sessionsOf(t.db.pool, first.user.id)).toHaveLength(1);
    const { rows } = await t.db.pool.query('SELECT name FROM users WHERE id = $1', [first.user.id]);
    expect(rows).toEqual([{ name: 'Test User' }]);
  });

  it('creates one account when the same email is registered twice at once; the other request gets 409', async () => {
    const email = uniqueEmail('race');
    const results = await Promise.all([
      register({ email, password: PASSWORD, name: 'First' }),
      register({ email: email.toUpperCase(), password: PASSWORD, name: 'Second' }),
    ]);

    expect(results.map((r) => r.status).sort()).toEqual([201, 409]);
    const loser = results.find((r) => r.status === 409)!;
    expectProblem(loser, 409);
    expect(await userCount(email)).toBe(1);
  });
});
