import { type ChildProcess, spawn, type SpawnOptions } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chown, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { basename, dirname, join, resolve } from 'node:path';
import { Client } from 'pg';
import { oneLine, placeServer } from './embedded-postgres-placement';

export interface EmbeddedPostgresOptions {
  dataDir: string;
  /** 0 picks a free port. */
  port: number;
  database?: string;
  /** false: a throw-away cluster, deleted when stopped (tests). */
  persistent?: boolean;
  /** Server settings (`-c name=value`), e.g. a bigger shared_buffers for the benchmark. */
  settings?: Record<string, string>;
  log?: (message: string) => void;
}

export interface EmbeddedPostgres {
  url: string;
  port: number;
  dataDir: string;
  stop(): Promise<void>;
}

/**
 * Starts a real PostgreSQL server from the binaries of the `embedded-postgres` package (a development
 * dependency, never loaded in production). The cluster is created on first use and reused after, so data
 * survives restarts; it listens on 127.0.0.1 only, with a random password kept beside it. The binaries are
 * driven here rather than through the package's class, which leaves its processes' spawn errors unhandled
 * (a crash) and can run them only from node_modules (see placeServer: as root, that may be out of reach).
 */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const database = options.database ?? 'tasks';
  const port = options.port || (await freePort());
  const { binDir, dataDir, owner, notes } = await placeServer(resolve(options.dataDir));
  for (const note of notes) options.log?.(`embedded PostgreSQL: ${note}`);
  const passwordFile = `${dataDir}.password`;
  const password = await loadOrCreatePassword(passwordFile);
  // English messages: readiness is read from the server's output.
  const spawnOptions: SpawnOptions = { ...owner, cwd: dirname(dataDir), env: { ...process.env, LC_MESSAGES: 'C' } };
  const recent: string[] = [];

  let server: ServerProcess;
  try {
    if (!existsSync(join(dataDir, 'PG_VERSION'))) {
      options.log?.(`initialising an embedded PostgreSQL cluster in ${dataDir}`);
      if (owner) await chown(passwordFile, owner.uid, owner.gid); // initdb reads it as that user
      const initdb = spawnProcess(join(binDir, 'initdb'), initdbArgs(dataDir, passwordFile), spawnOptions, recent);
      const code = await initdb.exited;
      if (code !== 0) throw new Error(`initdb exited with code ${code}`);
    }
    server = spawnProcess(join(binDir, 'postgres'), serverArgs(dataDir, port, options), spawnOptions, recent);
    await server.printed('database system is ready to accept connections');
  } catch (error) {
    const detail = oneLine(recent.join('').split('\n').slice(-6).join('\n'));
    throw new Error(
      `embedded PostgreSQL did not start (${dataDir}, port ${port}): ${oneLine(error)}${detail ? ` | ${detail}` : ''}`,
      { cause: error },
    );
  }

  // Should the owner die without stopping it, do not leave an orphaned server holding the data folder.
  const killOnExit = () => server.child.kill('SIGINT');
  process.once('exit', killOnExit);

  const url = `postgresql://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`;
  await createDatabaseIfMissing(
    `postgresql://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`,
    database,
  );
  return {
    url,
    port,
    dataDir,
    stop: async () => {
      process.removeListener('exit', killOnExit);
      server.child.kill('SIGINT'); // fast shutdown
      await server.exited.catch(() => undefined);
      if (options.persistent === false) {
        await rm(dataDir, { recursive: true, force: true });
        await rm(passwordFile, { force: true });
      }
    },
  };
}

function initdbArgs(dataDir: string, passwordFile: string): string[] {
  return [
    `--pgdata=${dataDir}`,
    '--auth=scram-sha-256',
    '--username=postgres',
    `--pwfile=${passwordFile}`,
    '--lc-messages=C',
  ];
}

function serverArgs(dataDir: string, port: number, options: EmbeddedPostgresOptions): string[] {
  return [
    '-D',
    dataDir,
    '-p',
    String(port),
    '-c',
    'listen_addresses=127.0.0.1',
    '-c',
    'unix_socket_directories=',
    '-c',
    'log_min_messages=warning',
    ...Object.entries(options.settings ?? {}).flatMap(([name, value]) => ['-c', `${name}=${value}`]),
  ];
}

interface ServerProcess {
  child: ChildProcess;
  /** Its exit code; rejects when it could not be started at all (EACCES, ENOENT, …). */
  exited: Promise<number | null>;
  /** Resolves once its output contains `text`; rejects if it ends first. */
  printed(text: string): Promise<void>;
}

function spawnProcess(file: string, args: string[], options: SpawnOptions, recent: string[]): ServerProcess {
  const child = spawn(file, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((resolveExit, rejectExit) => {
    child.once('error', rejectExit);
    child.once('close', resolveExit);
  });
  exited.catch(() => undefined);
  let output = '';
  const watchers: Array<() => void> = [];
  for (const stream of [child.stdout!, child.stderr!]) {
    stream.setEncoding('utf8').on('data', (chunk: string) => {
      output = (output + chunk).slice(-8192);
      recent.push(chunk);
      if (recent.length > 20) recent.shift();
      for (const watch of watchers) watch();
    });
  }
  const printed = (text: string) =>
    new Promise<void>((resolvePrinted, rejectPrinted) => {
      const watch = () => output.includes(text) && resolvePrinted();
      watchers.push(watch);
      watch();
      exited.then((code) => rejectPrinted(new Error(`${basename(file)} exited with code ${code}`)), rejectPrinted);
    });
  return { child, exited, printed };
}

async function loadOrCreatePassword(file: string): Promise<string> {
  if (existsSync(file)) return (await readFile(file, 'utf8')).trim();
  const password = randomBytes(24).toString('base64url');
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, `${password}\n`, { mode: 0o600 });
  return password;
}

async function createDatabaseIfMissing(adminUrl: string, database: string): Promise<void> {
  const client = new Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (!rowCount) await client.query(`CREATE DATABASE ${client.escapeIdentifier(database)}`);
  } finally {
    await client.end();
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const probe = createServer();
    probe.unref();
    probe.on('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() =>
        typeof address === 'object' && address ? resolvePort(address.port) : reject(new Error('no port')),
      );
    });
  });
}
