import fc from 'fast-check';
import { startTestApp, type TestApp } from '../support/app';
import { call, FAST_APP_ENV, registerUser, tally, type Outcome } from '../support/faults';
import { CONSISTENCY_CHECKS, SQL_INJECTION, violations } from '../support/hostile';

// A fixed seed keeps CI reproducible; FUZZ_SEED=<n> explores other cases, FUZZ_RUNS=<n> more of them.
const SEED = Number(process.env.FUZZ_SEED ?? 20_261_123);
const RUNS = Number(process.env.FUZZ_RUNS ?? 400);

interface HostileRequest {
  method: string;
  path: string;
  token?: string;
  headers?: Record<string, string>;
  body?: unknown;
}

// Header values fetch can send: printable ASCII.
const headerValue = fc.string({ unit: 'grapheme-ascii', maxLength: 80 });
const text = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.constantFrom(...SQL_INJECTION),
  fc.constantFrom('', ' ', 'null', 'true', '0', '-1', '1e309', 'NaN', '9'.repeat(30), 'x'.repeat(3000)),
);
const scalar = fc.oneof(
  text,
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.constantFrom(Number.MAX_SAFE_INTEGER, -0, 1e308),
);
const value = fc.oneof(scalar, fc.array(scalar, { maxLength: 4 }), fc.dictionary(text, scalar, { maxKeys: 3 }));
/** A body shaped like one the route expects, with hostile values, sometimes extra keys, sometimes not JSON. */
const bodyFor = (fields: string[]) =>
  fc.oneof(
    fc.record(Object.fromEntries(fields.map((field) => [field, value])), { requiredKeys: [] }),
    fc
      .tuple(
        fc.record(Object.fromEntries(fields.map((field) => [field, value])), { requiredKeys: [] }),
        fc.dictionary(text, value, { maxKeys: 2 }),
      )
      .map(([known, extra]) => ({ ...extra, ...known })),
    fc.jsonValue({ maxDepth: 3 }),
    fc.string({ maxLength: 60 }).map((raw) => ({ __raw: raw })),
  );
/** Mostly valid task bodies with hostile strings, so that writes really reach the database. */
const taskBody = fc.record(
  {
    title: fc.oneof(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 60 }), fc.constantFrom(...SQL_INJECTION)),
    description: fc.option(fc.oneof(text, fc.string({ unit: 'grapheme', maxLength: 300 })), { nil: null }),
    priority: fc.constantFrom('low', 'medium', 'high', 'urgent', 'LOW'),
    dueDate: fc.option(
      fc
        .date({ min: new Date('1900-01-01'), max: new Date('2999-12-31'), noInvalidDate: true })
        .map((d) => d.toISOString().slice(0, 10)),
      { nil: null },
    ),
    completed: fc.boolean(),
  },
  { requiredKeys: ['title'] },
);
const TASK_FIELDS = ['title', 'description', 'dueDate', 'priority', 'completed'];
const id = (known: string[]) =>
  fc.oneof(fc.uuid(), fc.constantFrom(...known), text.map(encodeURIComponent), fc.constantFrom('..', '%2e%2e', '%00'));
const query = fc
  .dictionary(
    fc.oneof(
      fc.constantFrom('completed', 'priority', 'dueBefore', 'dueAfter', 'q', 'sort', 'limit', 'cursor'),
      fc.string({ maxLength: 10 }),
    ),
    fc.oneof(text, fc.array(text, { minLength: 2, maxLength: 3 })),
    { maxKeys: 4 },
  )
  .map((params) => {
    const search = new URLSearchParams();
    for (const [key, v] of Object.entries(params)) for (const item of [v].flat()) search.append(key, item);
    return search.toString();
  });

describe('hostile input fuzzing (fast-check)', () => {
  let t: TestApp;
  let alice: { token: string; userId: string };
  let bob: { token: string; userId: string };
  const aliceTasks: string[] = [];
  const bobTasks: string[] = [];
  const outcomes: Outcome[] = [];
  const problems: string[] = [];

  beforeAll(async () => {
    t = await startTestApp({ env: { ...FAST_APP_ENV, DB_POOL_MAX: '4' } });
    alice = await registerUser(t.url, 'alice@example.com');
    bob = await registerUser(t.url, 'bob@example.com');
    for (const [who, ids] of [
      [alice, aliceTasks],
      [bob, bobTasks],
    ] as const) {
      for (let i = 0; i < 3; i += 1) {
        const res = await call(t.url, '/api/v1/tasks', {
          method: 'POST',
          token: who.token,
          body: { title: `seed ${i}` },
        });
        ids.push((res.body as { id: string }).id);
      }
    }
  });
  afterAll(() => t?.close());

  /** Sends one generated request and records what is wrong with its answer. */
  async function send(request: HostileRequest): Promise<boolean> {
    const raw = (request.body as { __raw?: string } | undefined)?.__raw;
    const body = raw !== undefined ? raw : request.body;
    const outcome = await call(t.url, request.path, {
      method: request.method,
      token: request.token,
      headers: { 'content-type': 'application/json', ...request.headers },
      body: request.method === 'GET' || request.method === 'DELETE' ? undefined : body,
    });
    outcomes.push(outcome);
    const requestText = `${request.path} ${JSON.stringify(body)} ${JSON.stringify(request.headers ?? {})}`;
    const found = violations(outcome, requestText);
    if (found.length) {
      problems.push(`${request.method} ${request.path.slice(0, 100)} -> ${outcome.status}: ${found.join(', ')}`);
    }
    return found.length === 0;
  }

  const property = (arbitrary: fc.Arbitrary<HostileRequest>, runs = RUNS) =>
    fc.assert(
      fc.asyncProperty(arbitrary, (request) => send(request)),
      { seed: SEED, numRuns: runs, endOnFailure: true },
    );

  const tokens = () =>
    fc.oneof(
      fc.constant(undefined),
      headerValue,
      fc.constantFrom('null', 'Bearer', 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.', alice.token.slice(0, -4) + 'AAAA'),
    );

  it('auth routes', async () => {
    await property(
      fc.oneof(
        fc.record({
          method: fc.constant('POST'),
          path: fc.constant('/api/v1/auth/register'),
          body: bodyFor(['email', 'password', 'name']),
        }),
        fc.record({
          method: fc.constant('POST'),
          path: fc.constant('/api/v1/auth/login'),
          body: bodyFor(['email', 'password']),
        }),
        fc.record({
          method: fc.constant('POST'),
          path: fc.constant('/api/v1/auth/refresh'),
          body: bodyFor(['refreshToken']),
        }),
        fc.record({ method: fc.constant('POST'), path: fc.constant('/api/v1/auth/logout'), token: tokens() }),
      ),
    );
  });

  it('user routes', async () => {
    await property(
      fc.oneof(
        fc.record({
          method: fc.constantFrom('GET', 'DELETE'),
          path: fc.constant('/api/v1/users/me'),
          token: tokens(),
        }),
        fc.record({
          method: fc.constant('PATCH'),
          path: fc.constant('/api/v1/users/me'),
          token: fc.constantFrom(alice.token, bob.token),
          body: bodyFor(['name', 'email']),
        }),
        fc.record({
          method: fc.constant('PUT'),
          path: fc.constant('/api/v1/users/me/password'),
          token: fc.constant(bob.token),
          // Never the real current password: the fuzzer must not sign its own users out.
          body: bodyFor(['currentPassword', 'newPassword']).filter(
            (b) => (b as { currentPassword?: unknown } | null)?.currentPassword !== 'correct horse battery',
          ),
        }),
      ),
    );
  });

  it('task collection routes', async () => {
    await property(
      fc.oneof(
        fc.record({
          method: fc.constant('POST'),
          path: fc.constant('/api/v1/tasks'),
          token: fc.constant(alice.token),
          body: fc.oneof(taskBody, bodyFor(TASK_FIELDS)),
          headers: fc.option(fc.record({ 'idempotency-key': headerValue }), { nil: undefined }),
        }),
        fc.record({
          method: fc.constant('GET'),
          path: query.map((q) => `/api/v1/tasks?${q}`),
          token: fc.constant(alice.token),
        }),
        fc.record({ method: fc.constant('GET'), path: fc.constant('/api/v1/tasks/stats'), token: tokens() }),
      ),
      RUNS * 2,
    );
  });

  it('single-task routes, including other users’ ids', async () => {
    const ids = id([...aliceTasks, ...bobTasks]);
    await property(
      fc.oneof(
        fc.record({
          method: fc.constantFrom('GET', 'DELETE'),
          path: ids.map((x) => `/api/v1/tasks/${x}`),
          token: fc.constant(bob.token),
          headers: fc.option(fc.record({ 'if-match': headerValue }), { nil: undefined }),
        }),
        fc.record({
          method: fc.constant('PATCH'),
          path: ids.map((x) => `/api/v1/tasks/${x}`),
          token: fc.constantFrom(alice.token, bob.token),
          body: fc.oneof(taskBody, bodyFor(TASK_FIELDS)),
          headers: fc.option(fc.record({ 'if-match': headerValue }), { nil: undefined }),
        }),
        fc.record({
          method: fc.constant('POST'),
          path: ids.map((x) => `/api/v1/tasks/${x}/toggle`),
          token: fc.constantFrom(alice.token, bob.token),
        }),
      ),
      RUNS * 2,
    );
  });

  it('any path, method and headers', async () => {
    await property(
      fc.record({
        method: fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'),
        path: fc
          .array(fc.oneof(fc.constantFrom('api', 'v1', 'tasks', 'users', 'me', 'auth', 'health', '..', ''), text), {
            maxLength: 5,
          })
          .map((parts) => `/${parts.map(encodeURIComponent).join('/')}`),
        token: tokens(),
        headers: fc.dictionary(
          fc.constantFrom('x-request-id', 'accept', 'content-type', 'if-match', 'idempotency-key', 'x-forwarded-for'),
          headerValue,
          { maxKeys: 3 },
        ),
        body: fc.option(bodyFor(['title']), { nil: undefined }),
      }),
    );
  });

  it('left no 5xx, no leak, only problem+json errors, and a consistent database', async () => {
    const consistency: Record<string, number> = {};
    for (const [name, sql] of Object.entries(CONSISTENCY_CHECKS)) {
      consistency[name] = (await t.db.pool.query<{ n: number }>(sql)).rows[0].n;
    }
    const bobsStillThere = await call(t.url, `/api/v1/tasks/${bobTasks[0]}`, { token: bob.token });
    const aliceStillIn = await call(t.url, '/api/v1/users/me', { token: alice.token });
    const { rows } = await t.db.pool.query<{ users: number; tasks: number }>(
      'SELECT (SELECT count(*)::int FROM users) AS users, (SELECT count(*)::int FROM tasks) AS tasks',
    );
    console.log(
      `scenario 12 (fuzzing, seed ${SEED}): ${outcomes.length} generated requests, statuses ${JSON.stringify(tally(outcomes))}; ` +
        `${problems.length} violations${problems.length ? `: ${problems.slice(0, 5).join(' | ')}` : ''}; ` +
        `database afterwards ${JSON.stringify(rows[0])}, integrity ${JSON.stringify(consistency)}`,
    );
    expect(outcomes.length).toBeGreaterThanOrEqual(RUNS * 7);
    expect(problems).toEqual([]);
    expect(Object.values(consistency).every((n) => n === 0)).toBe(true);
    expect(aliceStillIn.status).toBe(200);
    // Alice's fuzzed tokens and ids never touched Bob's data, except through Bob's own token.
    expect([200, 404]).toContain(bobsStillThere.status);
  });
});
