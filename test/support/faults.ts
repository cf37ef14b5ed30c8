import { Pool } from 'pg';
import request from 'supertest';
import { loadConfig } from '../../src/config/configuration';
import { runMigrations } from '../../src/database/run-migrations';
import type { TestApp } from './app';
import type { TestDatabase } from './database';
import type { PostgresServer } from './postgres-server';

/** Settings every fault test starts from: cheap password hashing, no rate limits, short timeouts. */
export const FAST_APP_ENV: Record<string, string> = {
  ARGON2_MEMORY_KIB: '1024',
  ARGON2_ITERATIONS: '1',
  THROTTLE_LOGIN_PER_IP: '0/60',
  THROTTLE_LOGIN_PER_EMAIL: '0/60',
  THROTTLE_REGISTER_PER_IP: '0/60',
  THROTTLE_REFRESH_PER_IP: '0/60',
  THROTTLE_PASSWORD_CHANGE_PER_USER: '0/60',
  DB_CONNECT_TIMEOUT_MS: '2000',
  HEALTH_DB_TIMEOUT_MS: '1000',
  DB_STATEMENT_TIMEOUT_MS: '5000',
};

/** A migrated database on a server of the test's own; `drop` closes the assertion pool only. */
export async function migratedDatabase(server: PostgresServer, name = 'tasks', params = ''): Promise<TestDatabase> {
  await server.createDatabase(name);
  const url = server.url(name, params);
  await runMigrations(loadConfig({ NODE_ENV: 'test', DATABASE_URL: url }).database);
  const pool = new Pool({ connectionString: url, max: 4, connectionTimeoutMillis: 5_000 });
  // The tests stop and freeze this server: an idle assertion connection closing is expected.
  pool.on('error', () => undefined);
  return { name, url, pool, drop: () => pool.end() };
}

export interface Outcome {
  label: string;
  status: number; // 0: no answer within the client's timeout, or the connection failed
  ms: number;
  startedAt: number;
  endedAt: number;
  contentType: string;
  retryAfter?: string;
  body: unknown;
  text: string;
}

export interface CallOptions {
  method?: string;
  token?: string;
  body?: unknown;
  headers?: Record<string, string>;
  timeoutMs?: number;
  label?: string;
}

/** One HTTP request with a client-side bound, so a hang shows up as status 0 rather than a stuck test. */
export async function call(baseUrl: string, path: string, options: CallOptions = {}): Promise<Outcome> {
  const startedAt = Date.now();
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.body !== undefined) headers['content-type'] ??= 'application/json';
  const base = { label: options.label ?? `${options.method ?? 'GET'} ${path}`, startedAt };
  try {
    const res = await fetch(`${baseUrl}${path}`, {
      method: options.method ?? 'GET',
      headers,
      body:
        options.body === undefined
          ? undefined
          : typeof options.body === 'string'
            ? options.body
            : JSON.stringify(options.body),
      signal: AbortSignal.timeout(options.timeoutMs ?? 15_000),
    });
    const text = await res.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON: keep the text
    }
    const endedAt = Date.now();
    return {
      ...base,
      status: res.status,
      ms: endedAt - startedAt,
      endedAt,
      contentType: res.headers.get('content-type') ?? '',
      retryAfter: res.headers.get('retry-after') ?? undefined,
      body,
      text,
    };
  } catch (error) {
    const endedAt = Date.now();
    return {
      ...base,
      status: 0,
      ms: endedAt - startedAt,
      endedAt,
      contentType: '',
      body: undefined,
      text: String(error),
    };
  }
}

/** Polls until `condition` holds; returns how long that took. */
export async function waitFor(
  condition: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 20_000,
  intervalMs = 50,
): Promise<number> {
  const started = Date.now();
  while (!(await condition())) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
  return Date.now() - started;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export function tally(outcomes: { status: number }[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const { status } of outcomes) counts[status] = (counts[status] ?? 0) + 1;
  return counts;
}

export function stats(values: number[]): { n: number; min: number; p50: number; max: number } {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  return { n: sorted.length, min: sorted[0] ?? 0, p50: at(0.5), max: sorted[sorted.length - 1] ?? 0 };
}

/** A 503 as SPEC §3 wants it: problem+json with Retry-After. */
export function isRetryable503(outcome: Outcome): boolean {
  const body = outcome.body as { status?: unknown; requestId?: unknown };
  return (
    outcome.status === 503 &&
    outcome.contentType.startsWith('application/problem+json') &&
    outcome.retryAfter !== undefined &&
    body?.status === 503 &&
    typeof body.requestId === 'string'
  );
}

export async function registerUser(baseUrl: string, email: string): Promise<{ token: string; userId: string }> {
  const res = await call(baseUrl, '/api/v1/auth/register', {
    method: 'POST',
    body: { email, password: 'correct horse battery', name: 'Fault' },
  });
  if (res.status !== 201) throw new Error(`register answered ${res.status}: ${res.text}`);
  const body = res.body as { accessToken: string; user: { id: string } };
  return { token: body.accessToken, userId: body.user.id };
}

/** A gauge or counter from /metrics (labels excluded). */
export async function metric(baseUrl: string, name: string): Promise<number> {
  const res = await call(baseUrl, '/metrics', { timeoutMs: 5_000 });
  return Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(res.text)?.[1] ?? NaN);
}

/** The address a service started with `waitForListen: false` reports once it listens. */
export async function listeningUrl(t: TestApp, timeoutMs: number): Promise<string> {
  let url = '';
  await waitFor(
    () => {
      for (const line of t.logs) {
        const match = /listening on (http:\/\/\S+)/.exec(String(line.msg ?? ''));
        if (match) url = match[1];
      }
      return url !== '' || t.process.exitCode !== null;
    },
    'the service to listen',
    timeoutMs,
  );
  if (!url) throw new Error(`the service exited (${t.process.exitCode}) before listening`);
  t.api = request(url);
  t.url = url;
  return url;
}

/** Whether the child process is still running (it never crashed). */
export function alive(t: TestApp): boolean {
  return t.process.exitCode === null && t.process.signalCode === null;
}

/**
 * Runs `workers` loops, each calling `step` back to back until stopped, and keeps every outcome.
 * Loops are bounded: they stop at `stop()` or after `maxMs`.
 */
export class Load {
  readonly outcomes: Outcome[] = [];
  private running = true;
  private readonly loops: Promise<void>[];

  constructor(workers: ((i: number) => Promise<Outcome>)[], maxMs = 120_000, pauseMs = 20) {
    const deadline = Date.now() + maxMs;
    this.loops = workers.map(async (step) => {
      for (let i = 0; this.running && Date.now() < deadline; i += 1) {
        this.outcomes.push(await step(i));
        await sleep(pauseMs);
      }
    });
  }

  async stop(): Promise<Outcome[]> {
    this.running = false;
    await Promise.all(this.loops);
    return this.outcomes;
  }
}
