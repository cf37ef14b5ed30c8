import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { ThrottlerStorage } from '@nestjs/throttler';
import { Sql } from '../database/sql';

// One statement per hit, on the database's clock, so that every replica counts in the same row: the
// upsert's row lock orders concurrent hits on one key. A key is blocked once its hits in the window
// exceed the limit, until blocked_until; while blocked its hits are not counted. An expired window or
// block starts over at one hit. $1 key, $2 window (ms), $3 limit, $4 block (ms).
const LIVE = 'r.blocked_until IS NULL AND r.window_ends_at > now()';
const BLOCKED = 'r.blocked_until > now()';
const COUNTED = `(CASE WHEN ${LIVE} THEN r.hits ELSE 0 END + 1)`;
export const HIT = `
  INSERT INTO rate_limits AS r (key, hits, window_ends_at, blocked_until)
  VALUES ($1, 1, now() + $2::float8 * interval '1 millisecond',
          CASE WHEN $3::int < 1 THEN now() + $4::float8 * interval '1 millisecond' END)
  ON CONFLICT (key) DO UPDATE SET
    hits = CASE WHEN ${BLOCKED} THEN r.hits ELSE ${COUNTED} END,
    window_ends_at = CASE WHEN ${BLOCKED} OR ${LIVE} THEN r.window_ends_at ELSE excluded.window_ends_at END,
    blocked_until = CASE WHEN ${BLOCKED} THEN r.blocked_until
                         WHEN ${COUNTED} > $3::int THEN now() + $4::float8 * interval '1 millisecond' END
  RETURNING r.hits AS "totalHits",
            greatest(0, ceil(extract(epoch FROM r.window_ends_at - now())))::int AS "timeToExpire",
            coalesce(r.blocked_until > now(), false) AS "isBlocked",
            greatest(0, ceil(extract(epoch FROM r.blocked_until - now())))::int AS "timeToBlockExpire"`;

const RESET = 'DELETE FROM rate_limits WHERE key = $1';

// Expired rows go in small batches, each a short transaction of its own; SKIP LOCKED passes over rows a
// hit (or another replica's purge) holds, so the purge never queues behind traffic nor traffic behind it.
const PURGE = `
  DELETE FROM rate_limits WHERE key IN (
    SELECT key FROM rate_limits WHERE greatest(window_ends_at, blocked_until) <= now()
    LIMIT $1 FOR UPDATE SKIP LOCKED)`;
const PURGE_BATCH = 500;
const PURGE_MAX_BATCHES = 20;
const PURGE_INTERVAL_MS = 60_000;

// The package exports the interface but not its record type.
type ThrottlerStorageRecord = Awaited<ReturnType<ThrottlerStorage['increment']>>;

/**
 * Rate-limit counters in PostgreSQL (the `rate_limits` table), so that limits hold in total across every
 * replica: the `@nestjs/throttler` storage of the auth routes' per-address limits (ThrottlerModule's
 * `storage`), and through `hit`/`reset` the per-account and per-user limits of PasswordAttempts. Raw SQL
 * because the whole read-modify-write must be one upsert, which TypeORM's query builder cannot express.
 * A database error propagates: the route answers 503 like any other outage, never unlimited.
 */
@Injectable()
export class RateLimitStore implements ThrottlerStorage, OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(RateLimitStore.name);
  private timer?: NodeJS.Timeout;

  constructor(private readonly sql: Sql) {}

  /** One hit on `key`; `ttl` and `blockDuration` in milliseconds (a block of 0 lasts one window). */
  async increment(
    key: string,
    ttl: number,
    limit: number,
    blockDuration: number,
    _throttlerName?: string,
  ): Promise<ThrottlerStorageRecord> {
    const block = blockDuration > 0 ? blockDuration : ttl;
    const { rows } = await this.sql.query<ThrottlerStorageRecord>({ text: HIT, values: [key, ttl, limit, block] });
    return rows[0];
  }

  /** Forgets the key's hits and block. */
  async reset(key: string): Promise<void> {
    await this.sql.query({ text: RESET, values: [key] });
  }

  /** Deletes expired rows, a batch at a time; returns how many. */
  async purgeExpired(batch = PURGE_BATCH, maxBatches = PURGE_MAX_BATCHES): Promise<number> {
    let purged = 0;
    for (let i = 0; i < maxBatches; i++) {
      const { rowCount } = await this.sql.query({ text: PURGE, values: [batch] });
      purged += rowCount;
      if (rowCount < batch) break;
    }
    return purged;
  }

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => {
      this.purgeExpired().catch((error: Error) => this.logger.warn(`purging expired rate limits: ${error.message}`));
    }, PURGE_INTERVAL_MS).unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }
}
