import type { Response } from 'supertest';
import { startTestApp, type TestApp } from '../../support/app';
import { API, registerUser, type Account } from '../../support/auth';
import { expectProblem } from '../../support/http';

jest.setTimeout(60_000);

const API_CSP = "default-src 'none';frame-ancestors 'none'";

/** The headers every answer carries, whoever made it: a route, a filter, Fastify, or the raw socket. */
function expectSecurityHeaders(res: Response, csp: unknown = API_CSP): void {
  expect(res.headers).toEqual(
    expect.objectContaining({
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'x-frame-options': 'DENY',
      'content-security-policy': csp,
      'cross-origin-opener-policy': 'same-origin',
      'cross-origin-resource-policy': 'same-origin',
    }),
  );
}

describe('security headers', () => {
  let t: TestApp;
  let alice: Account;

  beforeAll(async () => {
    t = await startTestApp();
    alice = await registerUser(t.api);
  });
  afterAll(() => t.close());

  const post = () => t.api.post(`${API}/tasks`).auth(alice.accessToken, { type: 'bearer' });

  it('are on a JSON 200', async () => {
    const res = await t.api.get(`${API}/users/me`).auth(alice.accessToken, { type: 'bearer' });
    expect(res.status).toBe(200);
    expectSecurityHeaders(res);
  });

  it.each([
    ['a problem+json 404 for an unknown route', () => t.api.get(`${API}/no-such-thing`), 404],
    ['a 401 from the guard', () => t.api.get(`${API}/tasks`), 401],
    ["Fastify's 413 for a body over the limit", () => post().send({ title: 'x'.repeat(70_000) }), 413],
    ["Fastify's 415 for a body that is not JSON", () => post().set('content-type', 'text/plain').send('x'), 415],
    ["the router's 400 for a malformed URL", () => t.api.get(`${API}/tasks/%E0%A4%A`), 400],
    ["the raw socket's 431 for an oversized head", () => t.api.get(`${API}/tasks?q=${'a'.repeat(20_000)}`), 431],
  ] as const)('are on %s', async (_what, send, status) => {
    const res = await send();
    expectProblem(res, status);
    expectSecurityHeaders(res);
  });

  it('are on the probes and the metrics', async () => {
    for (const path of ['/health/live', '/health/ready', '/metrics', '/docs-json']) {
      const res = await t.api.get(path);
      expect(res.status).toBe(200);
      expectSecurityHeaders(res);
    }
  });

  it('give the Swagger UI page a CSP that runs its own scripts only and reaches only this origin', async () => {
    for (const path of ['/docs', '/docs/index.html']) {
      const res = await t.api.get(path);
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/html/);
      expectSecurityHeaders(res, expect.any(String));
      const directives = (res.headers['content-security-policy'] as string).split(';').map((d) => d.split(' '));
      const csp = Object.fromEntries(directives.map(([name, ...values]) => [name, values]));
      expect(csp).toEqual(
        expect.objectContaining({
          'default-src': ["'none'"],
          'frame-ancestors': ["'none'"],
          'script-src': ["'self'"],
          'connect-src': ["'self'"],
        }),
      );
    }
    // Its scripts themselves are plain static files under the strict policy.
    const script = await t.api.get('/docs/swagger-ui-init.js');
    expect(script.status).toBe(200);
    expectSecurityHeaders(script);
  });

  it('leave out Strict-Transport-Security unless HSTS_MAX_AGE_S asks for it', async () => {
    const res = await t.api.get('/health/live');
    expect(res.headers['strict-transport-security']).toBeUndefined();
  });
});

describe('Strict-Transport-Security with HSTS_MAX_AGE_S', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { HSTS_MAX_AGE_S: '31536000' } });
  });
  afterAll(() => t.close());

  it.each([
    ['a 200', '/health/live', 200],
    ['a 404', '/no-such-thing', 404],
    ["the router's 400", '/api/v1/tasks/%E0%A4%A', 400],
    ["the raw socket's 431", `/health/live?q=${'a'.repeat(20_000)}`, 431],
  ] as const)('is on %s', async (_what, path, status) => {
    const res = await t.api.get(path);
    expect(res.status).toBe(status);
    expect(res.headers['strict-transport-security']).toBe('max-age=31536000; includeSubDomains');
    expectSecurityHeaders(res);
  });
});
