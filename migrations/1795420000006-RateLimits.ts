import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Rate-limit counters shared by every replica (src/rate-limits/rate-limit.store.ts): per-address limits of
 * the auth routes, failed password checks per account, password changes per user. UNLOGGED: no WAL per
 * hit, and a crash that empties the table only forgets counters. No entity: only that store reads it.
 * A new table, so nothing the previous release runs takes a lock on it; its fillfactor leaves room on
 * each page for the next version of a row, so a hit is a HOT update that touches no index.
 */
export class RateLimits1795420000006 implements MigrationInterface {
  name = 'RateLimits1795420000006';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE UNLOGGED TABLE rate_limits (
        key text NOT NULL,
        -- squawk-ignore prefer-bigint-over-int -- hits within one window of one key, at most the limit plus one
        hits integer NOT NULL,
        window_ends_at timestamptz NOT NULL,
        blocked_until timestamptz,
        CONSTRAINT rate_limits_pkey PRIMARY KEY (key)
      ) WITH (fillfactor = 70)`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE rate_limits`);
  }
}
