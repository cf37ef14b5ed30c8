import { connect } from 'node:net';
import { startTestApp, type TestApp } from '../support/app';
import { call, FAST_APP_ENV, registerUser, tally, type Outcome } from '../support/faults';
import { CONSISTENCY_CHECKS, SQL_INJECTION, violations } from '../support/hostile';

/** Sends raw bytes and returns the status line and body of the answer. */
function raw(port: number, request: string): Promise<{ status: number; contentType: string; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let data = '';
    socket.setTimeout(10_000, () => socket.destroy(new Error('no answer')));
    socket.on('data', (chunk) => (data += chunk.toString()));
    socket.on('error', reject);
    socket.on('close', () => {
      const [head, ...rest] = data.split('\r\n\r\n');
      resolve({
        status: Number(/^HTTP\/1\.1 (\d+)/.exec(head)?.[1] ?? 0),
        contentType: /content-type: ([^\r\n]+)/i.exec(head)?.[1] ?? '',
        body: rest.join('\r\n\r\n'),
      });
    });
    socket.end(request);
  });
}

// Scenario 13: injection, hostile JSON, odd paths and headers. Forged tokens are in
// test/api/auth/access-tokens.e2e-spec.ts; the body limit, nesting, prototype keys, malformed JSON and media
// types each have their precise test in test/api/http/problem-details.e2e-spec.ts.
describe('security probes', () => {
  let t: TestApp;
  let alice: { token: string; userId: string };
  let bob: { token: string; userId: string };
  let aliceTask: string;
  const outcomes: Outcome[] = [];
  const problems: string[] = [];

  beforeAll(async () => {
    t = await startTestApp({ env: FAST_APP_ENV });
    alice = await registerUser(t.url, 'alice@example.com');
    bob = await registerUser(t.url, 'bob@example.com');
    aliceTask = (
      (await call(t.url, '/api/v1/tasks', { method: 'POST', token: alice.token, body: { title: 'mine' } })).body as {
        id: string;
      }
    ).id;
  });
  afterAll(() => t?.close());

  async function probe(path: string, options: Parameters<typeof call>[2] = {}): Promise<Outcome> {
    const outcome = await call(t.url, path, options);
    outcomes.push(outcome);
    const found = violations(
      outcome,
      `${path} ${JSON.stringify(options.body ?? '')} ${JSON.stringify(options.headers ?? {})}`,
    );
    if (found.length)
      problems.push(`${options.method ?? 'GET'} ${path.slice(0, 80)} -> ${outcome.status}: ${found.join(', ')}`);
    return outcome;
  }

  it('treats SQL-injection payloads in every string field and query parameter as plain data', async () => {
    const stored: Outcome[] = [];
    for (const payload of SQL_INJECTION) {
      const auth = { token: alice.token };
      await probe('/api/v1/auth/register', {
        method: 'POST',
        body: { email: payload, password: payload.padEnd(8, 'x'), name: payload },
      });
      await probe('/api/v1/auth/register', {
        method: 'POST',
        body: {
          email: `x${SQL_INJECTION.indexOf(payload)}@example.com`,
          password: 'long enough password',
          name: payload,
        },
      });
      await probe('/api/v1/auth/login', { method: 'POST', body: { email: payload, password: payload } });
      await probe('/api/v1/auth/login', { method: 'POST', body: { email: 'alice@example.com', password: payload } });
      await probe('/api/v1/auth/refresh', { method: 'POST', body: { refreshToken: payload } });
      await probe('/api/v1/users/me', {
        method: 'PATCH',
        token: bob.token,
        body: { name: payload.slice(0, 100) || 'x' },
      });
      await probe('/api/v1/users/me', { method: 'PATCH', token: bob.token, body: { email: payload } });
      await probe('/api/v1/users/me/password', {
        method: 'PUT',
        token: bob.token,
        body: { currentPassword: payload, newPassword: 'another long password' },
      });
      const created = await probe('/api/v1/tasks', {
        method: 'POST',
        ...auth,
        body: { title: payload, description: payload },
        headers: { 'idempotency-key': payload.replace(/[^\x20-\x7e]/g, '?') },
      });
      stored.push(created);
      await probe('/api/v1/tasks', {
        method: 'POST',
        ...auth,
        body: { title: 'x', dueDate: payload, priority: payload },
      });
      for (const param of ['q', 'sort', 'priority', 'dueBefore', 'dueAfter', 'cursor', 'limit', 'completed']) {
        await probe(`/api/v1/tasks?${new URLSearchParams({ [param]: payload })}`, auth);
      }
      await probe(`/api/v1/tasks/${encodeURIComponent(payload)}`, auth);
      await probe(`/api/v1/tasks/${aliceTask}`, {
        method: 'PATCH',
        ...auth,
        body: { title: payload },
        headers: { 'if-match': payload.replace(/[^\x20-\x7e]/g, '?') },
      });
    }
    // Stored payloads come back byte for byte: they were parameters, never SQL.
    const roundTrips = await Promise.all(
      stored
        .filter((o) => o.status === 201)
        .map(async (o) => {
          const task = o.body as { id: string; title: string };
          const read = await call(t.url, `/api/v1/tasks/${task.id}`, { token: alice.token });
          return (read.body as { title: string }).title === task.title;
        }),
    );
    const search = await probe(`/api/v1/tasks?${new URLSearchParams({ q: `' OR 1=1 --`, limit: '100' })}`, {
      token: alice.token,
    });
    const { rows } = await t.db.pool.query<{ users: number; tables: number }>(
      `SELECT (SELECT count(*)::int FROM users) AS users,
              (SELECT count(*)::int FROM pg_tables WHERE schemaname = 'public' AND tablename IN ('users', 'tasks', 'sessions')) AS tables`,
    );
    const bobStillBob = await call(t.url, '/api/v1/users/me', { token: bob.token });
    console.log(
      `scenario 13a (SQL injection): ${SQL_INJECTION.length} payloads x every field/parameter = ${outcomes.length} requests ` +
        `${JSON.stringify(tally(outcomes))}; ${roundTrips.filter(Boolean).length}/${roundTrips.length} stored payloads read back verbatim; ` +
        `"' OR 1=1 --" search found ${(search.body as { items: unknown[] }).items.length} tasks; tables intact ${rows[0].tables}/3, users ${rows[0].users}; ` +
        `violations ${problems.length}${problems.length ? `: ${problems.slice(0, 3).join(' | ')}` : ''}`,
    );
    expect(problems).toEqual([]);
    expect(roundTrips.length).toBeGreaterThan(0);
    expect(roundTrips.every(Boolean)).toBe(true);
    expect(rows[0].tables).toBe(3);
    expect(bobStillBob.status).toBe(200);
  });

  it('rejects oversized, deeply nested and poisoned JSON', async () => {
    const auth = { token: alice.token };
    const nested = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);
    const cases: Record<string, { body: string; expect: number[] }> = {
      'nested 5000 deep': { body: nested(5000), expect: [400, 413] },
      '10k-element array': { body: JSON.stringify(Array.from({ length: 10_000 }, () => 1)), expect: [400] },
      '5000 keys': {
        body: JSON.stringify(Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`k${i}`, i]))),
        expect: [400],
      },
      'JSON with a BOM': { body: '\ufeff{"title":"x"}', expect: [400, 201] },
      'duplicate keys': { body: '{"title":"a","title":"b"}', expect: [201, 400] },
      'number overflow': { body: '{"title":"x","completed":1e999}', expect: [400] },
    };
    const results: Record<string, string> = {};
    for (const [name, { body, expect: allowed }] of Object.entries(cases)) {
      const outcome = await probe('/api/v1/tasks', { method: 'POST', ...auth, body });
      results[name] = `${outcome.status} in ${outcome.ms} ms`;
      expect(allowed).toContain(outcome.status);
    }
    const alive = await call(t.url, '/health/live');
    console.log(`scenario 13c (hostile JSON): ${JSON.stringify(results)}; liveness after ${alive.status}`);
    expect(problems).toEqual([]);
    expect(alive.status).toBe(200);
  });

  it('answers odd paths and headers cleanly', async () => {
    const paths = [
      '/api/v1/tasks/..%2F..%2Fetc%2Fpasswd',
      '/api/v1/tasks/../../../etc/passwd',
      '/api/v1//tasks',
      '/api/v1/tasks/%00',
      '/api/v1/tasks/%ZZ',
      `/api/v1/tasks/${'a'.repeat(4000)}`,
      '/api/v1/tasks/%E2%80%AE%F0%9F%98%80',
      '/API/V1/TASKS',
      '/api/v1/tasks;jsessionid=1',
      '/.env',
      '/docs/../../package.json',
      '/metrics/../api/v1/users/me',
    ];
    const results: Record<string, number> = {};
    for (const path of paths) results[path.slice(0, 40)] = (await probe(path, { token: alice.token })).status;
    const headerCases: Record<string, Parameters<typeof call>[2]> = {
      'XML body': {
        method: 'POST',
        token: alice.token,
        body: '<task/>',
        headers: { 'content-type': 'application/xml' },
      },
      'json charset=utf-16': {
        method: 'POST',
        token: alice.token,
        body: '{"title":"x"}',
        headers: { 'content-type': 'application/json; charset=utf-16' },
      },
      'hostile x-request-id': { token: alice.token, headers: { 'x-request-id': "'; DROP TABLE users; --<script>" } },
      'x-forwarded-for spoof': { token: alice.token, headers: { 'x-forwarded-for': '127.0.0.1, 10.0.0.1' } },
      'method override': {
        method: 'POST',
        token: alice.token,
        body: {},
        headers: { 'x-http-method-override': 'DELETE' },
      },
      'if-match garbage': {
        method: 'PATCH',
        token: alice.token,
        body: { title: 'y' },
        headers: { 'if-match': '"\u00ff' },
      },
    };
    for (const [name, options] of Object.entries(headerCases)) {
      const path = name === 'if-match garbage' ? `/api/v1/tasks/${aliceTask}` : '/api/v1/tasks';
      const outcome = await probe(path, options);
      results[name] = outcome.status;
      if (name === 'hostile x-request-id') expect((outcome.body as { items?: unknown }).items).toBeDefined();
    }
    const port = Number(new URL(t.url).port);
    const rawCases: Record<string, string> = {
      'header over 16 KiB': `GET /health/live HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
      'malformed request line': 'GARBAGE\r\n\r\n',
      'content-length and chunked (smuggling)': `POST /api/v1/tasks HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
      'content-length shorter than the body': `POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 5\r\nConnection: close\r\n\r\n{"email":"a@b.c","password":"x"}`,
      'invalid content-length': `POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n`,
    };
    for (const [name, request] of Object.entries(rawCases)) {
      const answer = await raw(port, request);
      results[name] = answer.status;
      expect(answer.status).toBeGreaterThanOrEqual(400);
      expect(answer.status).toBeLessThan(500);
      expect(answer.contentType).toContain('application/problem+json');
      expect(answer.body).not.toMatch(/\n\s+at |node_modules|Error:/);
    }
    const { rows } = await t.db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM users');
    const integrity: Record<string, number> = {};
    for (const [name, sql] of Object.entries(CONSISTENCY_CHECKS))
      integrity[name] = (await t.db.pool.query<{ n: number }>(sql)).rows[0].n;
    console.log(
      `scenario 13d (odd paths and headers): ${JSON.stringify(results)}; users ${rows[0].n}; ` +
        `integrity violations ${Object.values(integrity).reduce((a, b) => a + b, 0)}; total probes ${outcomes.length} ${JSON.stringify(tally(outcomes))}`,
    );
    expect(problems).toEqual([]);
    expect(Object.values(integrity).every((n) => n === 0)).toBe(true);
    expect((await call(t.url, '/health/ready')).status).toBe(200);
  });
});
