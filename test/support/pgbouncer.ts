import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, chownSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { freePort } from '../../src/database/embedded-postgres';
import { postgresUser } from './postgres-server';

export const PGBOUNCER_BIN = process.env.PGBOUNCER_BIN ?? '/usr/sbin/pgbouncer';

export interface PgBouncerOptions {
  /** The PostgreSQL server every database name is forwarded to (`* = host=… port=…`). */
  target: { host?: string; port: number };
  /** The auth_file entry: the role and its secret (a SCRAM verifier from pg_authid, an md5 hash or plain). */
  user: string;
  secret: string;
  authType?: 'scram-sha-256' | 'md5' | 'plain';
  poolMode?: 'transaction' | 'session' | 'statement';
  defaultPoolSize?: number;
  /** TLS towards clients (client_tls_*): PgBouncer then offers SCRAM-SHA-256 only, never the -PLUS variant. */
  clientTls?: { cert: string; key: string };
  /** Any further [pgbouncer] settings. */
  settings?: Record<string, string | number>;
}

/**
 * A PgBouncer of the test's own (Debian's package, `/usr/sbin/pgbouncer`; `.ci/run` installs it), set
 * up like Neon's pooler: transaction mode, a small server pool per database and user, every database
 * name forwarded to one PostgreSQL server, clients authenticated from an auth_file.
 */
export class PgBouncer {
  readonly logs: string[] = [];

  private constructor(
    readonly port: number,
    private readonly dir: string,
    private readonly child: ChildProcess,
    private readonly exited: Promise<unknown>,
  ) {}

  /** The role's SCRAM verifier, as PgBouncer's auth_file wants it (needs a superuser connection). */
  static async secretOf(adminUrl: string, role: string): Promise<string> {
    const client = new Client({ connectionString: adminUrl });
    await client.connect();
    try {
      const { rows } = await client.query<{ secret: string }>(
        'SELECT rolpassword AS secret FROM pg_authid WHERE rolname = $1',
        [role],
      );
      if (!rows[0]?.secret) throw new Error(`role ${role} has no password`);
      return rows[0].secret;
    } finally {
      await client.end();
    }
  }

  static async start(options: PgBouncerOptions): Promise<PgBouncer> {
    const dir = mkdtempSync(join(tmpdir(), 'tasks-api-pgbouncer-'));
    chmodSync(dir, 0o755);
    const owner = process.getuid?.() === 0 ? postgresUser() : undefined;
    const port = await freePort();
    const settings: Record<string, string | number> = {
      listen_addr: '127.0.0.1',
      listen_port: port,
      unix_socket_dir: '',
      auth_type: options.authType ?? 'scram-sha-256',
      auth_file: join(dir, 'userlist.txt'),
      pool_mode: options.poolMode ?? 'transaction',
      default_pool_size: options.defaultPoolSize ?? 5,
      max_client_conn: 1000,
      // node-postgres sends no extra_float_digits, but other clients (and TypeORM's CLI tools) may.
      ignore_startup_parameters: 'extra_float_digits',
      server_login_retry: 1,
      log_connections: 0,
      log_disconnections: 0,
      ...(options.clientTls
        ? {
            client_tls_sslmode: 'require',
            client_tls_cert_file: join(dir, 'client.crt'),
            client_tls_key_file: join(dir, 'client.key'),
          }
        : {}),
      ...options.settings,
    };
    const ini = [
      '[databases]',
      `* = host=${options.target.host ?? '127.0.0.1'} port=${options.target.port}`,
      '[pgbouncer]',
      ...Object.entries(settings).map(([key, value]) => `${key} = ${value}`),
    ].join('\n');
    const files: Record<string, string> = {
      'pgbouncer.ini': `${ini}\n`,
      'userlist.txt': `"${options.user}" "${options.secret}"\n`,
      ...(options.clientTls ? { 'client.crt': options.clientTls.cert, 'client.key': options.clientTls.key } : {}),
    };
    for (const [name, content] of Object.entries(files)) {
      writeFileSync(join(dir, name), content, { mode: 0o600 });
      if (owner) chownSync(join(dir, name), owner.uid, owner.gid);
    }

    const child = spawn(PGBOUNCER_BIN, [join(dir, 'pgbouncer.ini')], {
      ...(owner ?? {}),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = once(child, 'exit');
    const bouncer = new PgBouncer(port, dir, child, exited);
    for (const stream of [child.stdout!, child.stderr!]) {
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => bouncer.logs.push(...chunk.split('\n').filter(Boolean)));
    }
    const deadline = Date.now() + 15_000;
    while (!bouncer.logs.some((line) => line.includes('process up'))) {
      if (child.exitCode !== null || Date.now() > deadline) {
        await bouncer.close();
        throw new Error(`PgBouncer did not start:\n${bouncer.logs.join('\n')}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    return bouncer;
  }

  /** The same URL (user, password, database), pointed at PgBouncer. */
  url(directUrl: string): string {
    const parsed = new URL(directUrl);
    parsed.hostname = '127.0.0.1';
    parsed.port = String(this.port);
    return parsed.toString();
  }

  async close(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGINT');
      await this.exited;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Whether the PgBouncer binary is installed (`.ci/run` installs Debian's package when it is not). */
export function pgbouncerInstalled(): boolean {
  try {
    execFileSync(PGBOUNCER_BIN, ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
