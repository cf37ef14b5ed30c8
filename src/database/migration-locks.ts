import { inspect } from 'node:util';
import type { MigrationLimits } from '../config/database.config';

/** SQLSTATE lock_not_available: a statement gave up at lock_timeout. */
const LOCK_NOT_AVAILABLE = '55P03';

/**
 * A migration that failed, in one line that names it. The stack is that line too, so the TypeORM CLI,
 * which prints the whole error, prints just the line.
 */
export class MigrationError extends Error {
  constructor(
    message: string,
    /** The SQLSTATE of the statement that failed, when a statement did. */
    readonly sqlState?: string,
  ) {
    super(message);
    Object.defineProperties(this, {
      name: { value: 'MigrationError', enumerable: false },
      sqlState: { value: sqlState, enumerable: false },
      stack: { value: `MigrationError: ${message}`, enumerable: false },
    });
  }

  [inspect.custom](): string {
    return this.stack ?? this.message;
  }
}

/** A migration that failed, and what held the lock it waited for, when that is known. */
export class MigrationStepError extends MigrationError {
  constructor(
    readonly migration: string,
    readonly direction: 'up' | 'down',
    readonly error: unknown,
    readonly blocker?: string,
  ) {
    super(`Migration ${migration} (${direction}) failed: ${oneLine(error)}`, sqlStateOf(error));
    for (const key of ['migration', 'direction', 'error', 'blocker']) {
      Object.defineProperty(this, key, { enumerable: false });
    }
  }
}

export function isLockTimeout(error: unknown): boolean {
  return (error instanceof MigrationError ? error.sqlState : sqlStateOf(error)) === LOCK_NOT_AVAILABLE;
}

/** The pause before retry `attempt` (1-based): the configured delay, doubled each time, at most 60 s. */
export function retryDelayMs(limits: MigrationLimits, attempt: number): number {
  return Math.min(limits.retryDelayMs * 2 ** (attempt - 1), 60_000);
}

/** The longest a run can spend waiting for one migration's locks before it gives up. */
export function lockGiveUpBoundMs(limits: MigrationLimits): number {
  let total = (limits.lockRetries + 1) * limits.lockTimeoutMs;
  for (let attempt = 1; attempt <= limits.lockRetries; attempt++) total += retryDelayMs(limits, attempt);
  return total;
}

interface BlockerRow {
  wanted: string;
  locktype: string;
  relation: string | null;
  pid: number;
  application_name: string;
  usename: string | null;
  state: string | null;
  open_s: number | null;
  holds: string | null;
}

/**
 * Who blocks backend `pid`, as a phrase for the give-up line: the lock it waits for, and for each
 * blocking session its pid, application_name, state, how long its transaction has been open and the
 * table locks it holds. Undefined when `pid` waits for nothing.
 */
export async function describeBlockers(
  query: (sql: string, params: unknown[]) => Promise<{ rows: BlockerRow[] }>,
  pid: number,
): Promise<string | undefined> {
  const { rows } = await query(
    `SELECT w.mode AS wanted, w.locktype, w.relation::regclass::text AS relation,
            b.pid, b.application_name, b.usename, b.state,
            extract(epoch FROM now() - coalesce(b.xact_start, b.backend_start))::float8 AS open_s,
            (SELECT string_agg(DISTINCT h.mode || ' on ' || c.relname, ', ')
               FROM pg_locks h JOIN pg_class c ON c.oid = h.relation AND c.relkind IN ('r', 'p')
              WHERE h.pid = b.pid AND h.granted
                AND h.database = (SELECT oid FROM pg_database WHERE datname = current_database())
                AND (w.relation IS NULL OR h.relation = w.relation)) AS holds
       FROM pg_locks w
       CROSS JOIN LATERAL unnest(pg_blocking_pids(w.pid)) AS blocking(pid)
       JOIN pg_stat_activity b ON b.pid = blocking.pid
      WHERE w.pid = $1 AND NOT w.granted
      ORDER BY b.xact_start NULLS LAST`,
    [pid],
  );
  if (rows.length === 0) return undefined;
  const [first] = rows;
  const wanted = first.relation
    ? `${first.wanted} on ${first.relation}`
    : `the end of older transactions (${first.locktype})`;
  const sessions = rows.map((row) => {
    const details = [
      `application_name "${row.application_name}"`,
      row.usename && `user ${row.usename}`,
      row.state,
      row.open_s !== null && `transaction open ${row.open_s.toFixed(1)} s`,
      row.holds && `holding ${row.holds}`,
    ].filter(Boolean);
    return `pid ${row.pid} (${details.join(', ')})`;
  });
  return `waiting for ${wanted}, held by ${sessions.join('; ')}`;
}

function sqlStateOf(error: unknown): string | undefined {
  const { code, driverError } = (error ?? {}) as { code?: unknown; driverError?: { code?: unknown } };
  const state = typeof code === 'string' ? code : driverError?.code;
  return typeof state === 'string' ? state : undefined;
}

function oneLine(error: unknown): string {
  return String((error as Error)?.message ?? error).replace(/\s+/g, ' ');
}
