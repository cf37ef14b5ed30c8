import { DatabaseError } from 'pg';
import { QueryFailedError } from 'typeorm';
import { PoolSaturatedError } from './guarded-pool';

export type DatabaseFailure = 'unavailable' | 'timeout' | 'saturated';

// Network-level failures of the socket to PostgreSQL.
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
]);

// node-postgres and pg-pool report these as plain Errors.
const CLIENT_MESSAGES = [
  'timeout exceeded when trying to connect',
  'Connection terminated',
  'Connection ended unexpectedly',
  'Client has encountered a connection error and is not queryable',
  'Client was closed and is not queryable',
  'Cannot use a pool after calling end on the pool',
];

/**
 * Tells a database that is unreachable, overloaded or too slow (worth a retry: 503) from every other
 * failure (a bug: 500). SQLSTATE classes: 08 connection exception, 53 insufficient resources,
 * 57P0x server shutting down or starting, 57014 cancelled by statement_timeout, 25P03 idle-in-transaction
 * timeout, 3D000/28xxx a database or role that is not (yet) there.
 */
export function classifyDatabaseError(error: unknown): DatabaseFailure | undefined {
  if (error instanceof PoolSaturatedError) return 'saturated';
  const cause = error instanceof QueryFailedError ? (error.driverError as unknown) : error;
  if (!(cause instanceof Error)) return undefined;
  if (cause instanceof PoolSaturatedError) return 'saturated';
  const code = (cause as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (code === '57014') return 'timeout';
    if (NETWORK_CODES.has(code) || /^(08|53|57P0|3D000|28)/.test(code) || code === '25P03') return 'unavailable';
  }
  if (cause.message === 'Query read timeout') return 'timeout';
  if (CLIENT_MESSAGES.some((message) => cause.message.startsWith(message))) return 'unavailable';
  return undefined;
}

// Node's names for a server certificate that does not verify (OpenSSL's X509_V_ERR_* and the host name check).
const CERTIFICATE_CODES =
  /^(UNABLE_TO_|CERT_|DEPTH_ZERO_SELF_SIGNED_CERT$|SELF_SIGNED_CERT_IN_CHAIN$|INVALID_CA$|HOSTNAME_MISMATCH$|ERR_TLS_CERT_ALTNAME_INVALID$)/;

/** The database's TLS certificate was refused: a configuration problem, not an outage. */
export function isCertificateError(error: unknown): boolean {
  const cause = error instanceof QueryFailedError ? (error.driverError as unknown) : error;
  const code = (cause as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && CERTIFICATE_CODES.test(code);
}

/** The SQLSTATE of an error PostgreSQL raised, whether it came through TypeORM or straight from node-postgres. */
export function sqlState(error: unknown): string | undefined {
  const cause = error instanceof QueryFailedError ? (error.driverError as unknown) : error;
  return cause instanceof DatabaseError ? cause.code : undefined;
}
