import type { Response } from 'supertest';
import { closeReplicas, startReplicas, type TestApp } from '../../support/app';
import { API, expectProblem, NO_THROTTLING, registerUser, sessionsOf, uniqueEmail } from '../../support/auth';

// Several processes of the service on one database, the way replicas share it behind a load balancer:
// each request goes to the next process in turn, so a limit counted per process would let through
// (processes × limit) attempts.

const signIn = (app: TestApp, email: string, password: string) =>
  app.api.post(`${API}/auth/login`).send({ email, password });

const tally = (statuses: number[]) =>
  statuses.reduce<Record<number, number>>((counts, s) => ({ ...counts, [s]: (counts[s] ?? 0) + 1 }), {});

function expectRetryAfter(res: Response, windowS: number): void {
  expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
  expect(Number(res.headers['retry-after'])).toBeLessThanOrEqual(windowS);
}

describe('per-address limit across two processes (THROTTLE_LOGIN_PER_IP=4/60)', () => {
  let apps: TestApp[] = [];

  beforeAll(async () => {
    apps = await startReplicas(2, { ...NO_THROTTLING, THROTTLE_LOGIN_PER_IP: '4/60' });
  });
  afterAll(() => closeReplicas(apps));

  it('lets one address make 4 logins in total, then answers 429 on every process', async () => {
    const answers: Response[] = [];
    for (let i = 0; i < 8; i++) answers.push(await signIn(apps[i % 2], uniqueEmail('guess'), 'wrong password'));

    expect(answers.map((res) => res.status)).toEqual([401, 401, 401, 401, 429, 429, 429, 429]);
    for (const res of answers.slice(4)) {
      expectProblem(res, 429);
      expectRetryAfter(res, 60);
    }
  });
});

describe('per-account limit across three processes (THROTTLE_LOGIN_PER_EMAIL=10/900)', () => {
  let apps: TestApp[] = [];
  const at = (i: number) => apps[i % apps.length];

  beforeAll(async () => {
    apps = await startReplicas(3, { ...NO_THROTTLING, THROTTLE_LOGIN_PER_EMAIL: '10/900' });
  });
  afterAll(() => closeReplicas(apps));

  it('locks the account after 10 failures in total, on every process, even for the right password', async () => {
    const ada = await registerUser(at(0).api);
    const failures: Response[] = [];
    for (let i = 0; i < 12; i++) failures.push(await signIn(at(i), ada.user.email, `wrong ${i}`));
    const right = await Promise.all(apps.map((app) => signIn(app, ada.user.email.toUpperCase(), ada.password)));

    expect(failures.map((res) => res.status)).toEqual([...Array(10).fill(401), 429, 429]);
    for (const res of right) expectProblem(res, 429);
    expect(await sessionsOf(at(0).db.pool, ada.user.id)).toHaveLength(1);
    const bob = await registerUser(at(0).api);
    expect((await signIn(at(1), bob.user.email, bob.password)).status).toBe(200);
    for (const res of [...failures.slice(10), ...right]) expectRetryAfter(res, 900);
  });

  it('counts unknown emails the same way, with the same 401 until the lock', async () => {
    const nobody = uniqueEmail('nobody');
    const answers: Response[] = [];
    for (let i = 0; i < 11; i++) answers.push(await signIn(at(i), nobody, 'a password'));

    expect(answers.map((res) => res.status)).toEqual([...Array(10).fill(401), 429]);
    expect(new Set(answers.slice(0, 10).map((res) => res.body.detail as string)).size).toBe(1);
  });

  it('evaluates at most 10 of 60 simultaneous guesses, and refuses the right password sent among the late ones', async () => {
    const ada = await registerUser(at(0).api);
    const before = await sessionsOf(at(0).db.pool, ada.user.id);

    // The right password goes out once a 429 proves the lock, while most guesses are still in flight
    // (or once every guess has its answer, should none be refused).
    let sendRight!: () => void;
    const locked = new Promise<void>((resolve) => (sendRight = resolve));
    const guesses = Array.from({ length: 59 }, (_, i) =>
      signIn(at(i), ada.user.email, `guess ${i}`).then((res) => {
        if (res.status === 429) sendRight();
        return res;
      }),
    );
    void Promise.all(guesses).then(() => sendRight());
    const right = await locked.then(() => signIn(at(59), ada.user.email, ada.password));
    const answers = await Promise.all(guesses);

    const statuses = answers.map((res) => res.status);
    console.log(`60 simultaneous logins over 3 processes: ${JSON.stringify(tally([...statuses, right.status]))}`);
    expect(statuses.filter((status) => status === 401).length).toBeLessThanOrEqual(10);
    expect(statuses.filter((status) => status !== 401 && status !== 429)).toEqual([]);
    expectProblem(right, 429);
    expect(right.body.accessToken).toBeUndefined();
    expect(await sessionsOf(at(0).db.pool, ada.user.id)).toEqual(before);
    expectRetryAfter(right, 900);
  });
});
