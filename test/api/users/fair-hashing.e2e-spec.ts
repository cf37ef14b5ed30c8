import { startTestApp, type TestApp } from '../../support/app';
import { API, NO_THROTTLING, registerUser, type Account } from '../../support/auth';
import { call, tally, type Outcome } from '../../support/faults';
import { PROBLEM_JSON } from '../../support/http';

// One user's burst of password changes (two argon2 hashes each) against another user's logins. The rate
// limits are off and the pool's wait queue is long, so that what keeps the logins' latency is the bound
// on argon2 work per account and the fair hand-out of hashing slots, not a limit that refuses the burst
// before it hashes anything. The logins start once the app has taken the burst in (90% answered, or
// 1.5 s): before that they would measure the cost of receiving 100 requests, which no bound on hashing
// changes (a burst of 100 GET /users/me delays a login as much). The bound is relative, measured in the
// same test on the same machine: the loaded p95 within 3x the unloaded one. A shared machine can stall any
// one measurement, so a round that misses the bound is measured again, up to ROUNDS; the code without the
// bound misses it in every round by an order of magnitude (the burst's 200 hashes queue ahead of the
// logins: seconds, not milliseconds).
const PASSWORD = 'correct horse battery staple';
const BURST = 100;
const LOGINS = 10;
const ROUNDS = 3;

let t: TestApp;
let ada: Account;
let bob: Account;

beforeAll(async () => {
  t = await startTestApp({
    env: {
      ...NO_THROTTLING,
      THROTTLE_PASSWORD_CHANGE_PER_USER: '0/60',
      THROTTLE_LOGIN_PER_IP: '0/60',
      DB_POOL_MAX_WAITING: '1000',
    },
  });
  [ada, bob] = [await registerUser(t.api, { password: PASSWORD }), await registerUser(t.api, { password: PASSWORD })];
});
afterAll(() => t.close());

const login = (account: Account) =>
  call(t.url, `${API}/auth/login`, { method: 'POST', body: { email: account.user.email, password: PASSWORD } });
const changeAdasPassword = () =>
  call(t.url, `${API}/users/me/password`, {
    method: 'PUT',
    token: ada.accessToken,
    // The same password again: every request of the burst is legitimate and costs both hashes.
    body: { currentPassword: PASSWORD, newPassword: PASSWORD },
    timeoutMs: 60_000,
  });

async function bobsLogins(): Promise<Outcome[]> {
  const outcomes: Outcome[] = [];
  for (let i = 0; i < LOGINS; i++) outcomes.push(await login(bob));
  return outcomes;
}

/** Nearest-rank p95: of ten samples, the largest. */
function p95(outcomes: Outcome[]): number {
  const sorted = outcomes.map((o) => o.ms).sort((a, b) => a - b);
  return sorted[Math.ceil(0.95 * sorted.length) - 1];
}

/** Resolves once 90% of the burst has been answered, or after 1.5 s, with how many were still open. */
async function takenIn(burst: Promise<Outcome>[]): Promise<number> {
  let answered = 0;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, 1_500);
    for (const request of burst) {
      void request.then(() => {
        if (++answered < BURST * 0.9) return;
        clearTimeout(timer);
        resolve();
      });
    }
  });
  return BURST - answered;
}

interface Round {
  unloadedP95Ms: number;
  loadedP95Ms: number;
  loadedStatuses: number[];
  burst: Outcome[];
}

async function measure(): Promise<Round> {
  const unloaded = await bobsLogins();
  const burst = Array.from({ length: BURST }, changeAdasPassword);
  const openWhenLoginsStarted = await takenIn(burst);
  const loaded = await bobsLogins();
  const round = { unloadedP95Ms: p95(unloaded), loadedP95Ms: p95(loaded), burst: await Promise.all(burst) };
  const figures = {
    ...round,
    openWhenLoginsStarted,
    unloadedMs: unloaded.map((o) => o.ms),
    loadedMs: loaded.map((o) => o.ms),
  };
  console.log(`fair hashing: ${JSON.stringify({ ...figures, burst: tally(round.burst) })}`);
  return { ...round, loadedStatuses: loaded.map((o) => o.status) };
}

describe('argon2 work under one user’s burst', () => {
  it(`keeps another user's ${LOGINS} logins at 200 and near their unloaded p95 during ${BURST} concurrent password changes`, async () => {
    await bobsLogins(); // warm-up: connections, JIT, the session tables' pages
    const rounds: Round[] = [];
    do rounds.push(await measure());
    while (rounds.length < ROUNDS && rounds.at(-1)!.loadedP95Ms > 3 * rounds.at(-1)!.unloadedP95Ms);

    for (const round of rounds) expect(round.loadedStatuses).toEqual(Array(LOGINS).fill(200));
    const best = Math.min(...rounds.map((round) => round.loadedP95Ms / round.unloadedP95Ms));
    expect(best).toBeLessThanOrEqual(3);

    // Ada's own requests: some done, the rest refused at once as problem+json with Retry-After.
    const burst = rounds.flatMap((round) => round.burst);
    expect(burst.filter((o) => o.status === 204).length).toBeGreaterThan(0);
    for (const refused of burst.filter((o) => o.status !== 204)) {
      expect([refused.status, refused.contentType, Number(refused.retryAfter) > 0]).toEqual([
        429,
        expect.stringMatching(PROBLEM_JSON),
        true,
      ]);
    }
    // Her session still works and her password is unchanged.
    expect((await call(t.url, `${API}/users/me`, { token: ada.accessToken })).status).toBe(200);
    expect((await login(ada)).status).toBe(200);
  });
});
