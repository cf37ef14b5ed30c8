import { parse } from 'pg-connection-string';
import type { ConnectionOptions as TlsOptions } from 'node:tls';
import type { TlsPolicy } from '../config/database.config';
import { ConfigError } from '../config/env.validation';

/** What protects the connection: `unverified` encrypts without checking who answers. */
export type TlsMode = 'verify-full' | 'verify-ca' | 'unverified' | 'off';

/** What node-postgres needs to open one connection, derived from a libpq-style URL. */
export interface PostgresTarget {
  host: string;
  port: number;
  user: string;
  password?: string;
  database: string;
  ssl: false | TlsOptions;
  tlsMode: TlsMode;
  /** Set when production runs with less than a verified certificate, for one line at start-up. */
  tlsWarning?: string;
  enableChannelBinding: boolean;
  /** `channel_binding=require`: refuse a server that does not authenticate with SCRAM-SHA-256-PLUS. */
  requireChannelBinding: boolean;
  /** Startup parameters the URL asks for (`options`, `statement_timeout`, …), passed through as given. */
  startupParameters: Record<string, string>;
}

// Settings node-postgres sends in the startup packet. PgBouncer in transaction mode (Neon's pooler)
// refuses the connection when it sees them, so on a pooled host they must come from the role instead.
const STARTUP_PARAMETERS = ['options', 'statement_timeout', 'lock_timeout', 'idle_in_transaction_session_timeout'];
const SSLMODES = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'];
const LIBPQ: TlsPolicy = { verify: false, insecure: false };

/**
 * Parses a `postgres://` or `postgresql://` URL with libpq's semantics for `sslmode` (`require` encrypts,
 * `verify-ca`/`verify-full` also verify, `sslrootcert=system` uses the system CAs) and `channel_binding`.
 * Under a `verify` policy (production) a URL without `sslmode`, or with `prefer`/`require`, is verified
 * as `verify-full`, as node-postgres itself does. `variable` names the setting in error messages; the
 * messages never include the URL (it holds a password).
 */
export function parsePostgresUrl(url: string, variable = 'DATABASE_URL', policy: TlsPolicy = LIBPQ): PostgresTarget {
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
  const { ssl, warning } = toTlsOptions(parsed.ssl, sslmode, variable, policy);
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
    tlsMode: tlsModeOf(ssl),
    ...(warning ? { tlsWarning: warning } : {}),
    // node-postgres negotiates SCRAM-SHA-256-PLUS only when asked; `prefer` (libpq's default) asks too.
    enableChannelBinding: ssl !== false && channelBinding !== 'disable',
    requireChannelBinding: channelBinding === 'require',
    startupParameters,
  };
}

function toTlsOptions(
  parsedSsl: unknown,
  sslmode: string | undefined,
  variable: string,
  policy: TlsPolicy,
): { ssl: false | TlsOptions; warning?: string } {
  if (sslmode && !SSLMODES.includes(sslmode)) {
    throw new ConfigError(`${variable} has an invalid sslmode (disable, prefer, require, verify-ca or verify-full)`);
  }
  if (sslmode === 'disable' || sslmode === 'allow') {
    const warning = `${variable} sets sslmode=${sslmode}: the database connection is not encrypted`;
    return { ssl: false, ...(policy.verify ? { warning } : {}) };
  }
  // pg-connection-string has applied libpq's meaning; node-postgres cannot fall back to plain text, so
  // `prefer` means "encrypt, don't verify" there.
  const libpq: TlsOptions | undefined = parsedSsl ? { ...(parsedSsl as TlsOptions) } : undefined;
  if (!policy.verify || sslmode === 'verify-ca' || sslmode === 'verify-full') return { ssl: libpq ?? false };
  if (policy.insecure) {
    const ssl = libpq && sslmode ? libpq : { ...libpq, rejectUnauthorized: false };
    if (tlsModeOf(ssl) !== 'unverified') return { ssl };
    return { ssl, warning: `DATABASE_TLS_INSECURE=true: the certificate of the ${variable} server is not checked` };
  }
  // Production, `sslmode` absent, `prefer` or `require`: verify-full, with the URL's CA and client certificate.
  const { ca, cert, key } = libpq ?? {};
  return { ssl: { ...(ca ? { ca } : {}), ...(cert ? { cert } : {}), ...(key ? { key } : {}) } };
}

function tlsModeOf(ssl: false | TlsOptions): TlsMode {
  if (ssl === false) return 'off';
  if (ssl.rejectUnauthorized === false) return 'unverified';
  return ssl.checkServerIdentity ? 'verify-ca' : 'verify-full';
}

/** The TLS mode in words, for the start-up log line. */
export function describeTls(mode: TlsMode): string {
  if (mode === 'off') return 'no TLS';
  return mode === 'unverified' ? 'TLS without certificate check' : `TLS ${mode}`;
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
