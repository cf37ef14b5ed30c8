import { parse } from 'pg-connection-string';
import type { ConnectionOptions as TlsOptions } from 'node:tls';
import { ConfigError } from '../config/env.validation';

/** What node-postgres needs to open one connection, derived from a libpq-style URL. */
export interface PostgresTarget {
  host: string;
  port: number;
  user: string;
  password?: string;
  database: string;
  ssl: false | TlsOptions;
  enableChannelBinding: boolean;
  /** `channel_binding=require`: refuse a server that does not authenticate with SCRAM-SHA-256-PLUS. */
  requireChannelBinding: boolean;
  /** Startup parameters the URL asks for (`options`, `statement_timeout`, …), passed through as given. */
  startupParameters: Record<string, string>;
}

// Settings node-postgres sends in the startup packet. PgBouncer in transaction mode (Neon's pooler)
// refuses the connection when it sees them, so on a pooled host they must come from the role instead.
const STARTUP_PARAMETERS = ['options', 'statement_timeout', 'lock_timeout', 'idle_in_transaction_session_timeout'];

/**
 * Parses a `postgres://` or `postgresql://` URL with libpq's semantics for `sslmode` (`require` encrypts,
 * `verify-ca`/`verify-full` also verify, `sslrootcert=system` uses the system CAs) and `channel_binding`.
 * `variable` names the setting in error messages; the messages never include the URL (it holds a password).
 */
export function parsePostgresUrl(url: string, variable = 'DATABASE_URL'): PostgresTarget {
  let parsed: ReturnType<typeof parse>;
  let systemCa = false;
  try {
    const parts = new URL(url);
    // libpq 16's `sslrootcert=system` (trust the system CAs, verify fully); pg-connection-string would
    // try to read a file called "system".
    if (parts.searchParams.get('sslrootcert') === 'system') {
      systemCa = true;
      parts.searchParams.delete('sslrootcert');
      if (!parts.searchParams.has('sslmode')) parts.searchParams.set('sslmode', 'verify-full');
    }
    parsed = parse(parts.toString(), { useLibpqCompat: true });
  } catch (error) {
    throw new ConfigError(`${variable} ${describeParseError(error)}`);
  }
  if (systemCa && parsed.sslmode !== 'verify-full') {
    throw new ConfigError(`${variable} uses sslrootcert=system, which requires sslmode=verify-full`);
  }
  if (!parsed.host || parsed.host.startsWith('/')) throw new ConfigError(`${variable} must name a TCP host`);
  if (!parsed.user) throw new ConfigError(`${variable} must include a user name`);
  const port = parsed.port ? Number(parsed.port) : 5432;
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new ConfigError(`${variable} has an invalid port`);

  const sslmode = typeof parsed.sslmode === 'string' ? parsed.sslmode : undefined;
  const ssl = toTlsOptions(parsed.ssl, sslmode, variable);
  const channelBinding = parsed.channel_binding ?? 'prefer';
  if (!['disable', 'prefer', 'require'].includes(String(channelBinding))) {
    throw new ConfigError(`${variable} has an invalid channel_binding (disable, prefer or require)`);
  }
  if (channelBinding === 'require' && ssl === false) {
    throw new ConfigError(`${variable} sets channel_binding=require, which needs TLS: add sslmode=require or stronger`);
  }

  const startupParameters: Record<string, string> = {};
  for (const name of STARTUP_PARAMETERS) {
    if (typeof parsed[name] === 'string' && parsed[name] !== '') startupParameters[name] = parsed[name];
  }
  return {
    host: parsed.host,
    port,
    user: parsed.user,
    password: parsed.password || undefined,
    database: parsed.database || parsed.user,
    ssl,
    // node-postgres negotiates SCRAM-SHA-256-PLUS only when asked; `prefer` (libpq's default) asks too.
    enableChannelBinding: ssl !== false && channelBinding !== 'disable',
    requireChannelBinding: channelBinding === 'require',
    startupParameters,
  };
}

function toTlsOptions(ssl: unknown, sslmode: string | undefined, variable: string): false | TlsOptions {
  if (!ssl || sslmode === 'disable' || sslmode === 'allow') return false;
  // node-postgres cannot fall back to plain text, so `prefer` means "encrypt, don't verify" here.
  if (sslmode && !['prefer', 'require', 'verify-ca', 'verify-full'].includes(sslmode)) {
    throw new ConfigError(`${variable} has an invalid sslmode (disable, prefer, require, verify-ca or verify-full)`);
  }
  return { ...(ssl as TlsOptions) };
}

function describeParseError(error: unknown): string {
  const err = error as NodeJS.ErrnoException;
  if (err?.code && err.path) return `names a certificate file that cannot be read (${err.code}: ${err.path})`;
  if (err instanceof Error && err.message.startsWith('SECURITY WARNING')) {
    return 'sets sslmode=verify-ca without sslrootcert: give the CA file or use verify-full';
  }
  return 'is not a valid URL';
}

/** Neon's pooled endpoints carry `-pooler` in the first label of their host name. */
export function isPoolerHost(host: string): boolean {
  return /-pooler(\.|$)/.test(host);
}

/** Host, port and database, for logs: never the user or password. */
export function describeTarget(target: Pick<PostgresTarget, 'host' | 'port' | 'database'>): string {
  return `${target.host}:${target.port}/${target.database}`;
}

export function assertNoStartupParameters(target: PostgresTarget, variable: string): void {
  const names = Object.keys(target.startupParameters).filter(
    (name) => !(name === 'options' && /^\s*(endpoint|project)=\S+\s*$/.test(target.startupParameters[name])),
  );
  if (names.length > 0) {
    throw new ConfigError(
      `${variable} points at a PgBouncer pooler, which rejects the startup parameter ${names.join(', ')}: ` +
        'remove it and set the timeout on the role (ALTER ROLE … SET), or use the direct host',
    );
  }
}
