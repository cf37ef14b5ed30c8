// `node -r ts-node/register/transpile-only bench/rate-limit-cost.ts [--seconds S] [--workers N]` after
// `npm run build`: what counting a rate limit in PostgreSQL costs. Part 1 times RateLimitStore's one
// statement against @nestjs/throttler's in-memory storage; part 2 drives POST /auth/refresh through the
// built service with the per-address limit off and on, in alternating rounds of one run, so the ratio
// is taken under the same conditions. Figures are quoted in docs/auth.md (Rate limits).
import { ThrottlerStorageService } from '@nestjs/throttler';
import { randomBytes } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Pool } from 'pg';
import { loadConfig } from '../src/config/configuration';
import type { Sql } from '../src/database/sql';
import { runMigrations } from '../src/database/run-migrations';
import { StatementRunner } from '../src/database/statement-runner';
import { RateLimitStore } from '../src/rate-limits/rate-limit.store';
import { processTreeCpuSeconds } from './cpu';
import { ROOT, type Server, startDatabase, startServer } from './processes';

const { values: args } = parseArgs({
  options: { seconds: { type: 'string', default: '5' }, workers: { type: 'string', default: '16' } },
});
const SECONDS = Number(args.seconds);
const WORKERS = Number(args.workers);
const MINUTE = 60_000;
// THROTTLE_REFRESH_PER_IP's default: most keys are soon blocked, which costs both storages as much as a count.
const LIMIT = 60;

type Increment = (key: string) => Promise<unknown>;

/** Hits over `keys` keys, `inFlight` at a time, for `ms`: hits per second and µs per hit of one caller. */
async function drive(increment: Increment, keys: number, inFlight: number, ms: number) {
  let hits = 0;
  const started = performance.now();
  const deadline = started + ms;
  await Promise.all(
    Array.from({ length: inFlight }, async (_, worker) => {
      for (let i = worker; performance.now() < deadline; i += inFlight) {
        await increment(`k${i % keys}`);
        hits++;
      }
    }),
  );
  const elapsed = performance.now() - started;
  return { hits, perSecond: (hits / elapsed) * 1000, latencyUs: ((elapsed * inFlight) / hits) * 1000 };
}

async function storage(url: string, serverPid: number | undefined): Promise<string[]> {
  const memory = new ThrottlerStorageService();
  const pool = new Pool({ connectionString: url, max: 10 });
  const store = new RateLimitStore(new StatementRunner(pool, true) as Sql);
  const viaMemory: Increment = (key) => memory.increment(key, MINUTE, LIMIT, MINUTE, 'bench');
  const viaPostgres: Increment = (key) => store.increment(key, MINUTE, LIMIT, MINUTE, 'bench');
  const ms = SECONDS * 1000;
  try {
    await drive(viaPostgres, 1000, 10, 1000); // warm-up: connections, prepared statements, rows
    const mem = await drive(viaMemory, 1000, 1, ms);
    const one = await drive(viaPostgres, 1000, 1, ms);
    const cpuBefore = serverPid === undefined ? undefined : processTreeCpuSeconds(serverPid);
    const many = await drive(viaPostgres, 1000, 10, ms);
    const cpuAfter = serverPid === undefined ? undefined : processTreeCpuSeconds(serverPid);
    const hot = await drive(viaPostgres, 1, 10, ms);
    const dbCpu =
      cpuBefore === undefined || cpuAfter === undefined
        ? 'n/a'
        : `${(((cpuAfter - cpuBefore) / many.hits) * 1e6).toFixed(0)} µs`;
    memory.onApplicationShutdown();
    return [
      `in-memory storage: ${mem.latencyUs.toFixed(2)} µs per hit`,
      `PostgreSQL, one caller: ${one.latencyUs.toFixed(0)} µs per hit (one round trip), ${(one.latencyUs / mem.latencyUs).toFixed(0)}× the in-memory storage`,
      `PostgreSQL, 10 callers over 1000 keys: ${many.perSecond.toFixed(0)} hits/s, ${many.latencyUs.toFixed(0)} µs each, database CPU ${dbCpu} per hit`,
      `PostgreSQL, 10 callers on one key (one address): ${hot.perSecond.toFixed(0)} hits/s, ${hot.latencyUs.toFixed(0)} µs each`,
    ];
  } finally {
    await pool.end();
  }
}

/** Refresh-token chains, one per worker, against `server` for `ms`: requests and the time they took. */
async function refreshes(server: Server, tokens: string[], ms: number) {
  let requests = 0;
  let failures = 0;
  const started = performance.now();
  const deadline = started + ms;
  await Promise.all(
    tokens.map(async (_, worker) => {
      while (performance.now() < deadline) {
        const res = await fetch(`${server.url}/api/v1/auth/refresh`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ refreshToken: tokens[worker] }),
        });
        const body = (await res.json()) as { refreshToken?: string };
        if (res.status === 200 && body.refreshToken) tokens[worker] = body.refreshToken;
        else failures++;
        requests++;
      }
    }),
  );
  return { requests, failures, ms: performance.now() - started };
}

async function http(url: string): Promise<string[]> {
  const work = await mkdtemp(join(tmpdir(), 'tasks-api-rate-limit-cost-'));
  const env = (refresh: string): Record<string, string> => ({
    NODE_ENV: 'production',
    DATABASE_URL: url,
    JWT_SECRET: SECRET,
    LOG_LEVEL: 'warn',
    DB_IDLE_TIMEOUT_MS: '600000',
    ARGON2_MEMORY_KIB: '1024',
    ARGON2_ITERATIONS: '1',
    THROTTLE_REGISTER_PER_IP: '0/60',
    THROTTLE_REFRESH_PER_IP: refresh,
  });
  const main = join(ROOT, 'dist', 'main.js');
  const off = await startServer('limit-off', [main], env('0/60'), '/health/ready', work);
  const on = await startServer('limit-on', [main], env('999999/3600'), '/health/ready', work);
  try {
    const tokens = await Promise.all(
      Array.from({ length: WORKERS }, async (_, i) => {
        const res = await fetch(`${off.url}/api/v1/auth/register`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            email: `cost-${i}-${SECRET.slice(0, 8)}@example.com`,
            password: 'a bench password',
            name: 'Cost',
          }),
        });
        return ((await res.json()) as { refreshToken: string }).refreshToken;
      }),
    );
    await refreshes(on, tokens, 1000);
    await refreshes(off, tokens, 1000);
    const total = { off: { requests: 0, failures: 0, ms: 0 }, on: { requests: 0, failures: 0, ms: 0 } };
    for (let round = 0; round < 4; round++) {
      for (const [name, server] of round % 2
        ? ([
            ['on', on],
            ['off', off],
          ] as const)
        : ([
            ['off', off],
            ['on', on],
          ] as const)) {
        const run = await refreshes(server, tokens, (SECONDS * 1000) / 2);
        total[name].requests += run.requests;
        total[name].failures += run.failures;
        total[name].ms += run.ms;
      }
    }
    const rate = (t: typeof total.on) => (t.requests / t.ms) * 1000;
    const [offRate, onRate] = [rate(total.off), rate(total.on)];
    return [
      `POST /auth/refresh, ${WORKERS} clients from one address, limit off: ${offRate.toFixed(0)} req/s, ${((1000 / offRate) * WORKERS).toFixed(2)} ms each`,
      `POST /auth/refresh, same clients, limit counted in PostgreSQL: ${onRate.toFixed(0)} req/s, ${((1000 / onRate) * WORKERS).toFixed(2)} ms each (${((onRate / offRate) * 100).toFixed(0)} % of off; failures ${total.on.failures + total.off.failures})`,
    ];
  } finally {
    await Promise.all([off.stop(), on.stop()]);
  }
}

const SECRET = randomBytes(32).toString('base64url');

async function main(): Promise<void> {
  const database = await startDatabase(process.env.BENCH_DATABASE_URL);
  try {
    await runMigrations(loadConfig({ NODE_ENV: 'test', DATABASE_URL: database.url }).database);
    const lines = [...(await storage(database.url, database.serverPid)), ...(await http(database.url))];
    console.log(lines.join('\n'));
  } finally {
    await database.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
