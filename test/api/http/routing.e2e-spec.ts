import { startTestApp, type TestApp } from '../../support/app';
import { registerUser, type Account } from '../../support/auth';
import { expectProblem } from '../../support/http';

jest.setTimeout(60_000);

const TASK = '0193d6c2-7d4e-7c1a-9f1e-3c2b1a0f9e8d';

describe('routing: 404 for an unknown path, 405 for a known one asked with another method', () => {
  let t: TestApp;
  let alice: Account;

  beforeAll(async () => {
    t = await startTestApp();
    alice = await registerUser(t.api, { email: 'alice.routing@example.com' });
  });
  afterAll(() => t.close());

  it.each([
    ['get', '/api/v1/no-such-thing'],
    ['post', '/api/v1/no-such-thing'],
    ['get', '/no-such-thing'],
    ['post', '/no-such-thing'],
    ['get', '/api/v1/tasks/stats/more'],
    ['get', '/api/v1/tasks/'],
    ['put', '/api/v1/tasks/'],
  ] as const)('answers %s %s with 404', async (method, path) => {
    const res = await t.api[method](path).auth(alice.accessToken, { type: 'bearer' });
    expectProblem(res, 404, path);
    expect(res.headers.allow).toBeUndefined();
  });

  it('answers 404 for an unknown route without a token (routing comes before auth)', async () => {
    const res = await t.api.get('/api/v1/no-such-thing');
    expectProblem(res, 404, '/api/v1/no-such-thing');
  });

  it.each([
    ['put', '/api/v1/tasks', 'GET, HEAD, POST'],
    ['delete', '/api/v1/tasks', 'GET, HEAD, POST'],
    ['delete', '/api/v1/tasks/stats', 'GET, HEAD'],
    ['patch', '/api/v1/tasks/stats', 'GET, HEAD'],
    ['put', `/api/v1/tasks/${TASK}`, 'GET, HEAD, DELETE, PATCH'],
    ['get', `/api/v1/tasks/${TASK}/toggle`, 'POST'],
    ['get', '/api/v1/auth/register', 'POST'],
    ['patch', '/api/v1/users/me/password', 'PUT'],
    ['post', '/health/live', 'GET, HEAD'],
    ['delete', '/metrics', 'GET, HEAD'],
  ] as const)('answers %s %s with 405 and Allow: %s', async (method, path, allow) => {
    const res = await t.api[method](path).auth(alice.accessToken, { type: 'bearer' });
    expectProblem(res, 405, path);
    expect(res.headers.allow.split(', ').sort()).toEqual(allow.split(', ').sort());
    expect(res.body.detail).toContain(method.toUpperCase());
  });

  it('answers 405 before authentication and before reading the body, like a 404', async () => {
    const res = await t.api.put('/api/v1/tasks').set('content-type', 'application/json').send('{"title": ');
    expectProblem(res, 405, '/api/v1/tasks');
    expect(res.headers.allow).toBe('GET, HEAD, POST');
  });

  it('still serves the methods a path has, a task id included', async () => {
    const created = await t.api.post('/api/v1/tasks').auth(alice.accessToken, { type: 'bearer' }).send({ title: 'x' });
    expect(created.status).toBe(201);
    const res = await t.api.get(`/api/v1/tasks/${created.body.id}`).auth(alice.accessToken, { type: 'bearer' });
    expect(res.status).toBe(200);
    expect((await t.api.head('/health/live')).status).toBe(200);
  });
});

describe('query parameters: every API route refuses the ones it does not declare', () => {
  let t: TestApp;
  let alice: Account;

  beforeAll(async () => {
    t = await startTestApp();
    alice = await registerUser(t.api, { email: 'alice.query@example.com' });
  });
  afterAll(() => t.close());

  it.each([
    ['get', '/api/v1/tasks?x=1'],
    ['get', '/api/v1/tasks/stats?x=1'],
    ['head', '/api/v1/tasks/stats?x=1'],
    ['get', `/api/v1/tasks/${TASK}?x=1`],
    ['get', '/api/v1/users/me?x=1'],
    ['get', '/api/v1/auth/sessions?x=1'],
    ['delete', '/api/v1/auth/sessions?x=1'],
    ['post', '/api/v1/auth/logout?x=1'],
  ] as const)('answers %s %s with 400 naming x', async (method, path) => {
    const res = await t.api[method](path).auth(alice.accessToken, { type: 'bearer' });
    expect(res.status).toBe(400);
    if (method === 'head') return;
    expectProblem(res, 400, path.split('?')[0]);
    expect(res.body.errors).toEqual([{ field: 'x', message: 'x is not a known field' }]);
  });

  it('changes nothing on a refused request: the session stays open', async () => {
    expect((await t.api.post('/api/v1/auth/logout?x=1').auth(alice.accessToken, { type: 'bearer' })).status).toBe(400);
    expect((await t.api.get('/api/v1/users/me').auth(alice.accessToken, { type: 'bearer' })).status).toBe(200);
  });

  it('answers 401, not 400, without a token', async () => {
    expectProblem(await t.api.get('/api/v1/tasks/stats?x=1'), 401, '/api/v1/tasks/stats');
  });

  it('leaves the probes and the metrics alone', async () => {
    expect((await t.api.get('/health/live?x=1')).status).toBe(200);
    expect((await t.api.get('/metrics?x=1')).status).toBe(200);
  });
});
