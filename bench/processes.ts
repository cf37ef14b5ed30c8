import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, readFileSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from 'pg';
import { freePort, startEmbeddedPostgres } from '../src/database/embedded-postgres';

export const ROOT = join(__dirname, '..');

export interface BenchDatabase {
  url: string;
  describe: string;
  /** The postmaster's pid when the server runs on this machine (embedded), for its CPU time. */
  serverPid?: number;
  /**
   * A copy of the database under another name on the same server (CREATE DATABASE … TEMPLATE), for
   * a second data set measured side by side with the first. Nothing may be connected to it meanwhile.
   */
  copy(name: string): Promise<string>;
  stop(): Promise<void>;
}

/** CREATE DATABASE `name` TEMPLATE `source`, through `adminUrl` (a connection to another database). */
async function copyDatabase(adminUrl: string, source: string, name: string): Promise<string> {
  const admin = new Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    const copy = admin.escapeIdentifier(name);
    await admin.query(`DROP DATABASE IF EXISTS ${copy} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${copy} TEMPLATE ${admin.escapeIdentifier(source)}`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/**
 * A real PostgreSQL: a throw-away embedded cluster, or a fresh database `tasks_bench` on the server
 * BENCH_DATABASE_URL names (dropped and re-created, so nothing else on that server is touched).
 */
export async function startDatabase(externalUrl: string | undefined): Promise<BenchDatabase> {
  if (externalUrl) {
    const target = new URL(externalUrl);
    const name = process.env.BENCH_DATABASE_NAME ?? 'tasks_bench';
    const admin = new Client({ connectionString: externalUrl });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${admin.escapeIdentifier(name)} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${admin.escapeIdentifier(name)}`);
    await admin.end();
    target.pathname = `/${name}`;
    return {
      url: target.toString(),
      describe: `${target.host}/${name} (BENCH_DATABASE_URL)`,
      copy: (copy) => copyDatabase(externalUrl, name, copy),
      stop: async () => {},
    };
  }
  const parent = await mkdtemp(join(tmpdir(), 'tasks-api-bench-'));
  await chmod(parent, 0o755); // as root, the server runs as `postgres` and must reach its folder
  // Big enough for both data sets of the scaling check, side by side (the 1M-task set and its indexes
  // take about 600 MB, the 100k set 70), so that both are served from the server's own cache, as a
  // database sized for its working set would; the default 128 MB holds the 100k set but not the 1M
  // one, which then measures page-cache copies.
  const server = await startEmbeddedPostgres({
    dataDir: join(parent, 'pg'),
    port: 0,
    persistent: false,
    settings: { shared_buffers: '1GB' },
  });
  const serverPid = Number(readFileSync(join(server.dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  // The app runs with NODE_ENV=production, where a URL without sslmode means verify-full; this server has no TLS.
  const local = new URL(server.url);
  local.searchParams.set('sslmode', 'disable');
  return {
    url: local.toString(),
    serverPid: Number.isInteger(serverPid) && serverPid > 0 ? serverPid : undefined,
    describe: `embedded PostgreSQL on 127.0.0.1:${server.port} (throw-away cluster in ${parent})`,
    copy: (name) => {
      const admin = new URL(local);
      const source = admin.pathname.slice(1);
      admin.pathname = '/postgres';
      return copyDatabase(admin.toString(), source, name);
    },
    stop: async () => {
      await server.stop();
      await rm(parent, { recursive: true, force: true });
    },
  };
}

export interface Server {
  name: string;
  url: string;
  pid: number;
  /** Where its stdout and stderr go. */
  logFile: string;
  stop(): Promise<void>;
}

/** Starts `node <args>` with exactly `env` (plus PATH), waits until `readyPath` answers 200. */
export async function startServer(
  name: string,
  args: string[],
  env: Record<string, string>,
  readyPath: string,
  logDir: string,
): Promise<Server> {
  const port = await freePort();
  const logFile = join(logDir, `${name}.log`);
  const log = createWriteStream(logFile);
  await once(log, 'open');
  const child = spawn(process.execPath, args, {
    // A temporary working directory: a developer's .env must not change what is measured.
    cwd: logDir,
    env: { PATH: process.env.PATH ?? '', ...env, HOST: '127.0.0.1', PORT: String(port) },
    stdio: ['ignore', log, log],
  });
  const url = `http://127.0.0.1:${port}`;
  const exited = once(child, 'exit');
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${name} exited during start-up:\n${tail(logFile)}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${name} did not become ready within 60 s:\n${tail(logFile)}`);
    }
    const ok = await fetch(url + readyPath).then(
      (response) => response.ok,
      () => false,
    );
    if (ok) break;
    await sleep(200);
  }
  return {
    name,
    url,
    pid: child.pid!,
    logFile,
    stop: () => stopChild(child, exited),
  };
}

async function stopChild(child: ChildProcess, exited: Promise<unknown>): Promise<void> {
  if (child.exitCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  await exited;
  clearTimeout(timer);
}

function tail(file: string): string {
  return readFileSync(file, 'utf8').split('\n').slice(-20).join('\n');
}

/** Resident set size of a process in bytes, from /proc (Linux) or `ps` elsewhere. */
export function rssBytes(pid: number): number | undefined {
  try {
    const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    if (match) return Number(match[1]) * 1024;
  } catch {
    // not Linux, or the process is gone
  }
  try {
    return Number(execFileSync('ps', ['-o', 'rss=', '-p', String(pid)], { encoding: 'utf8' }).trim()) * 1024;
  } catch {
    return undefined;
  }
}

/** Samples a process' RSS every `intervalMs` until stopped. */
export class RssSampler {
  readonly samples: { at: number; rss: number }[] = [];
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly pid: number,
    intervalMs = 200,
  ) {
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
  }

  stop(): { peak: number; samples: { at: number; rss: number }[] } {
    clearInterval(this.timer);
    this.sample();
    return { peak: Math.max(0, ...this.samples.map((s) => s.rss)), samples: this.samples };
  }

  private sample(): void {
    const rss = rssBytes(this.pid);
    if (rss !== undefined) this.samples.push({ at: Date.now(), rss });
  }
}
