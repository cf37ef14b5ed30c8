import type { Agent } from 'node:http';
import request from 'supertest';
import { startTestApp, type TestApp } from '../../support/app';
import { API, expectProblem, NO_THROTTLING, registerUser, sessionsOf, uniqueEmail } from '../../support/auth';
import { clientAt, ForwardingProxy } from '../../support/forwarding-proxy';

// The app behind a proxy that connects from 127.0.0.2 and appends its client's address to X-Forwarded-For,
// as an ingress controller does; TRUST_PROXY lists that address, as the ConfigMap lists the ingress pods'.
// Clients are told apart by the address they connect from (127.0.0.x), as real ones are by theirs.
const LOGINS_PER_ADDRESS = 5;
const WRONG = { email: 'nobody@example.com', password: 'not the password' };

let t: TestApp;
let proxy: ForwardingProxy;
const clients: Agent[] = [];

beforeAll(async () => {
  t = await startTestApp({
    env: { ...NO_THROTTLING, TRUST_PROXY: '127.0.0.2/32', THROTTLE_LOGIN_PER_IP: `${LOGINS_PER_ADDRESS}/60` },
  });
  proxy = await ForwardingProxy.start(t.url);
});
afterAll(async () => {
  for (const client of clients) client.destroy();
  await proxy.close();
  await t.close();
});

/** A client at `address` that reaches the app through the proxy. */
function behindProxy(address: string, through = proxy) {
  const agent = clientAt(address);
  clients.push(agent);
  const api = request(through.url);
  return {
    login: (forged?: string) => withForged(api.post(`${API}/auth/login`).agent(agent), forged).send(WRONG),
    post: (path: string, body: object) => api.post(`${API}${path}`).agent(agent).send(body),
    get: (path: string, token: string) => api.get(`${API}${path}`).agent(agent).auth(token, { type: 'bearer' }),
  };
}

function withForged<T extends request.Test>(test: T, forged: string | undefined): T {
  return forged === undefined ? test : (test.set('X-Forwarded-For', forged) as T);
}

describe('client addresses behind a proxy (TRUST_PROXY=127.0.0.2/32)', () => {
  it('gives each client behind the proxy a login bucket of its own, which forging X-Forwarded-For does not leave', async () => {
    const a = behindProxy('127.0.0.10');
    const b = behindProxy('127.0.0.11');
    const statusesOfA: number[] = [];
    for (let i = 0; i < LOGINS_PER_ADDRESS; i++) statusesOfA.push((await a.login(`198.51.100.${i + 1}`)).status);
    expect(statusesOfA).toEqual(Array(LOGINS_PER_ADDRESS).fill(401));

    const limited = await a.login('198.51.100.99');
    expectProblem(limited, 429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);

    // Another client behind the same proxy is not limited by A's attempts.
    expectProblem(await b.login(), 401);
  });

  it('keeps a client that reaches the app directly and forges X-Forwarded-For in its own bucket', async () => {
    const direct = (forged: string) => t.api.post(`${API}/auth/login`).set('X-Forwarded-For', forged).send(WRONG);
    const statuses: number[] = [];
    for (let i = 0; i < LOGINS_PER_ADDRESS; i++) statuses.push((await direct(`127.0.0.${20 + i}`)).status);
    expect(statuses).toEqual(Array(LOGINS_PER_ADDRESS).fill(401));
    // Claiming to be a fresh client, or the proxy itself, changes nothing.
    expectProblem(await direct('203.0.113.50'), 429);
    expectProblem(await direct('127.0.0.2'), 429);

    // Clients behind the proxy keep their own buckets.
    expectProblem(await behindProxy('127.0.0.12').login(), 401);
  });

  it('records the real client in sessions.ip at register, login and refresh, in the API and the database', async () => {
    const email = uniqueEmail('ip');
    const password = 'correct horse battery staple';
    const registered = await behindProxy('127.0.0.13').post('/auth/register', { email, password, name: 'Ip' });
    expect(registered.status).toBe(201);
    const userId = registered.body.user.id as string;
    expect((await sessionsOf(t.db.pool, userId)).map((row) => row.ip)).toEqual(['127.0.0.13']);

    const laptop = behindProxy('127.0.0.14');
    const signedIn = await laptop.post('/auth/login', { email, password });
    expect(signedIn.status).toBe(200);
    const listed = await laptop.get('/auth/sessions', signedIn.body.accessToken);
    expect(listed.status).toBe(200);
    expect(listed.body.map((s: { ip: string }) => s.ip).sort()).toEqual(['127.0.0.13', '127.0.0.14']);

    // A refresh from elsewhere moves the session's address; a forged header on a direct request does not.
    const refreshed = await behindProxy('127.0.0.15').post('/auth/refresh', {
      refreshToken: signedIn.body.refreshToken,
    });
    expect(refreshed.status).toBe(200);
    // (From an address of its own: 127.0.0.1 used up its login bucket above.)
    const directClient = clientAt('127.0.0.16');
    clients.push(directClient);
    const direct = await request(t.url)
      .post(`${API}/auth/login`)
      .agent(directClient)
      .set('X-Forwarded-For', '203.0.113.7')
      .send({ email, password });
    expect(direct.status).toBe(200);
    expect((await sessionsOf(t.db.pool, userId)).map((row) => row.ip)).toEqual([
      '127.0.0.13',
      '127.0.0.15',
      '127.0.0.16',
    ]);
  });
});

describe('a hop count (TRUST_PROXY=1)', () => {
  let hops: TestApp;
  let oneHop: ForwardingProxy;
  beforeAll(async () => {
    const limit = `${LOGINS_PER_ADDRESS}/60`;
    hops = await startTestApp({ env: { ...NO_THROTTLING, TRUST_PROXY: '1', THROTTLE_LOGIN_PER_IP: limit } });
    oneHop = await ForwardingProxy.start(hops.url);
  });
  afterAll(async () => {
    await oneHop.close();
    await hops.close();
  });

  it('reaches Fastify as one trusted hop: clients behind the proxy get buckets of their own', async () => {
    const a = behindProxy('127.0.0.30', oneHop);
    for (let i = 0; i < LOGINS_PER_ADDRESS; i++) expect((await a.login()).status).toBe(401);
    expectProblem(await a.login(), 429);
    expectProblem(await behindProxy('127.0.0.31', oneHop).login(), 401);
  });

  it('believes the last X-Forwarded-For entry from anyone, so a direct client picks its address', async () => {
    const account = await registerUser(hops.api);
    const signedIn = await hops.api
      .post(`${API}/auth/login`)
      .set('X-Forwarded-For', '203.0.113.7')
      .send({ email: account.user.email, password: account.password });
    expect(signedIn.status).toBe(200);
    expect((await sessionsOf(hops.db.pool, account.user.id)).map((row) => row.ip)).toEqual([
      '127.0.0.1',
      '203.0.113.7',
    ]);
  });

  it('records no address, rather than failing, when the believed entry is not an address', async () => {
    const email = uniqueEmail('garbage');
    const res = await hops.api
      .post(`${API}/auth/register`)
      .set('X-Forwarded-For', 'not-an-address')
      .send({ email, password: 'correct horse battery staple', name: 'G' });
    expect(res.status).toBe(201);
    expect((await sessionsOf(hops.db.pool, res.body.user.id)).map((row) => row.ip)).toEqual([null]);
  });
});

describe('TRUST_PROXY=true outside production', () => {
  it('starts with a warning naming TRUST_PROXY, and believes any sender', async () => {
    const anyone = await startTestApp({ env: { ...NO_THROTTLING, TRUST_PROXY: 'true' } });
    try {
      const warning = anyone.logs.find((line) => String(line.msg).includes('TRUST_PROXY=true'));
      expect(warning).toEqual(expect.objectContaining({ level: 40 }));
      const account = await registerUser(anyone.api);
      const signedIn = await anyone.api
        .post(`${API}/auth/login`)
        .set('X-Forwarded-For', '203.0.113.8, 198.51.100.9')
        .send({ email: account.user.email, password: account.password });
      expect(signedIn.status).toBe(200);
      expect((await sessionsOf(anyone.db.pool, account.user.id)).map((row) => row.ip)).toEqual([
        '127.0.0.1',
        '203.0.113.8',
      ]);
    } finally {
      await anyone.close();
    }
  });
});
