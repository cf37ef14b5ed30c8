import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import request from 'supertest';
import type TestAgent from 'supertest/lib/agent';
import { createTestDatabase, type TestDatabase } from './database';

export const TEST_JWT_SECRET = 'test-secret-that-is-long-enough-0123456789';
const MAIN = join(__dirname, '..', '..', 'dist', 'main.js');

export interface TestApp {
  url: string;
  api: TestAgent;
  db: TestDatabase;
  process: ChildProcess;
  /** Every line the service wrote to stdout and stderr, parsed when it is JSON. */
  logs: LogLine[];
  /** Sends a signal and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  close(): Promise<void>;
}

export type LogLine = Record<string, unknown> & { msg?: string; raw: string };

export interface StartOptions {
  env?: Record<string, string>;
  /** Reuse a database (default: a fresh clone of the migrated template, dropped on close). */
  db?: TestDatabase;
  /** Resolve once the process has started listening (default) or return at once. */
  waitForListen?: boolean;
  /** The service to start (default: this checkout's dist/main.js), e.g. the previous release's build. */
  main?: string;
}

/** The built service in a child process, listening on a free port, on a database of the test's own. */
export async function startTestApp(options: StartOptions = {}): Promise<TestApp> {
  const db = options.db ?? (await createTestDatabase());
  const child = spawn(process.execPath, [options.main ?? MAIN], {
    env: {
      PATH: process.env.PATH,
      NODE_ENV: 'test',
      HOST: '127.0.0.1',
      PORT: '0',
      LOG_LEVEL: 'info',
      ...connectionEnv(db.url),
      JWT_SECRET: TEST_JWT_SECRET,
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: LogLine[] = [];
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  const listening = new Promise<string>((resolve, reject) => {
    const onLine = (raw: string) => {
      const line = parse(raw);
      logs.push(line);
      const match = /listening on (http:\/\/\S+)/.exec(line.msg ?? '');
      if (match) resolve(match[1]);
    };
    lines(child.stdout!, onLine);
    lines(child.stderr!, onLine);
    void exited.then((code) =>
      reject(new Error(`service exited (${code}) before listening:\n${logs.map((l) => l.raw).join('\n')}`)),
    );
  });

  let url = '';
  if (options.waitForListen !== false) url = await listening;
  else listening.catch(() => undefined);

  const stop = async (signal: NodeJS.Signals = 'SIGTERM') => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    return exited;
  };
  return {
    url,
    api: request(url),
    db,
    process: child,
    logs,
    stop,
    close: async () => {
      await stop('SIGKILL');
      if (!options.db) await db.drop();
    },
  };
}

/**
 * The database variables for a test database. Under `npm run test:pgbouncer` (TEST_PGBOUNCER=1) the app
 * reaches a database of the shared server through PgBouncer in transaction mode, as it reaches Neon's
 * pooler, with the direct URL beside it for migrations.
 */
function connectionEnv(url: string): Record<string, string> {
  const bouncer = process.env.TEST_PGBOUNCER_PORT;
  const admin = process.env.TEST_ADMIN_URL;
  if (!bouncer || !admin || new URL(url).port !== new URL(admin).port) return { DATABASE_URL: url };
  const pooled = new URL(url);
  pooled.port = bouncer;
  return { DATABASE_URL: pooled.toString(), DATABASE_URL_UNPOOLED: url, DATABASE_POOLER: 'pgbouncer' };
}

function parse(raw: string): LogLine {
  try {
    return { ...(JSON.parse(raw) as Record<string, unknown>), raw };
  } catch {
    return { msg: raw, raw };
  }
}

function lines(stream: NodeJS.ReadableStream, onLine: (line: string) => void): void {
  let buffer = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    buffer += chunk;
    let index: number;
    while ((index = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, index).trim();
      buffer = buffer.slice(index + 1);
      if (line) onLine(line);
    }
  });
}

/**
 * `count` processes of the service on one database (the first one's, dropped when it closes), the way
 * replicas share it behind a load balancer. `close` stops them all.
 */
export async function startReplicas(count: number, env: Record<string, string>): Promise<TestApp[]> {
  const first = await startTestApp({ env });
  const others = await Promise.all(Array.from({ length: count - 1 }, () => startTestApp({ env, db: first.db })));
  return [first, ...others];
}

export async function closeReplicas(apps: TestApp[]): Promise<void> {
  await Promise.all(apps.slice(1).map((app) => app.close()));
  await apps[0]?.close();
}
