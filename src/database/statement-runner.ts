import { createHash } from 'node:crypto';
import { DatabaseError } from 'pg';
import type * as pg from 'pg';
import { sqlState } from './database-errors';

/** A parameterized statement: `text` with `$n` placeholders and their `values`. */
export interface Statement {
  text: string;
  values: unknown[];
}

export interface SqlResult<T> {
  rows: T[];
  /** Rows returned, or touched by an INSERT, UPDATE or DELETE. */
  rowCount: number;
}

// A pooler that does not carry prepared statements between its server connections (PgBouncer before
// 1.21, or with max_prepared_statements = 0) shows it with one of these on the second use of a name:
// 26000 the statement is not on this server connection, 42P05 another client already prepared it there.
// Both are raised before anything executes, so the statement can be run again unnamed.
const NOT_CARRIED = new Set(['26000', '42P05']);
// "cached plan must not change result type" (0A000): a migration changed a column that a prepared
// statement returns. Also raised before execution; that connection's prepared statements are stale.
const isStalePlan = (error: unknown) =>
  sqlState(error) === '0A000' && (error as Error).message === 'cached plan must not change result type';
// Statement texts are built from a fixed set of fragments (one per filter, sort and changed field), so
// this bound is not reached in practice; past it, new texts simply run unnamed.
const MAX_NAMES = 500;

/** A name for a statement text: equal names always mean equal SQL, across processes and releases. */
export const statementName = (text: string): string =>
  `tasks_${createHash('sha256').update(text).digest('base64url').slice(0, 24)}`;

/**
 * Runs statements on a node-postgres pool as named prepared statements: PostgreSQL parses and plans
 * each text once per connection instead of on every call, which is most of its CPU for small indexed
 * queries. Behind a pooler that does not keep them, the first failure switches naming off (reported
 * through `onUnsupported`) and the statement runs again unnamed. With `prepare` false, nothing is named.
 */
export class StatementRunner {
  private readonly names = new Map<string, string>();

  constructor(
    private readonly pool: pg.Pool,
    private prepare: boolean,
    private readonly onUnsupported: (sqlState: string) => void = () => undefined,
  ) {}

  /** Whether statements are still being named (false once a pooler has been found not to keep them). */
  get preparing(): boolean {
    return this.prepare;
  }

  async query<T>({ text, values }: Statement): Promise<SqlResult<T>> {
    const name = this.prepare ? this.nameOf(text) : undefined;
    if (name === undefined) return this.run<T>({ text, values });
    try {
      return await this.run<T>({ name, text, values });
    } catch (error) {
      const code = sqlState(error);
      const notCarried = code !== undefined && NOT_CARRIED.has(code);
      if (!notCarried && !isStalePlan(error)) throw error;
      if (notCarried && this.prepare) {
        this.prepare = false;
        this.onUnsupported(code);
      }
      return this.run<T>({ text, values });
    }
  }

  private async run<T>(query: pg.QueryConfig): Promise<SqlResult<T>> {
    const client = await this.pool.connect();
    try {
      const result = await client.query<T & pg.QueryResultRow>(query);
      client.release();
      return { rows: result.rows, rowCount: result.rowCount ?? 0 };
    } catch (error) {
      // The connection is discarded when it broke (an error that is not PostgreSQL's: terminated, reset,
      // a client-side timeout), when its backend reported FATAL and is about to close its socket, or when
      // its prepared statements are stale; released as healthy it would fail the next request too, and
      // count as progress for readiness (DatabaseProbe). A constraint violation leaves it healthy.
      const broken = !(error instanceof DatabaseError) || error.severity === 'FATAL' || isStalePlan(error);
      client.release(broken ? (error as Error) : undefined);
      throw error;
    }
  }

  private nameOf(text: string): string | undefined {
    let name = this.names.get(text);
    if (name === undefined && this.names.size < MAX_NAMES) {
      name = statementName(text);
      this.names.set(text, name);
    }
    return name;
  }
}
