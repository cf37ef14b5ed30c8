import { randomUUID } from 'node:crypto';
import type { PoolClient } from 'pg';
import type { Sql } from '../../src/database/sql';
import { StatementRunner } from '../../src/database/statement-runner';
import { RateLimitStore } from '../../src/rate-limits/rate-limit.store';
import { createTestDatabase, type TestDatabase } from '../support/database';

// The statement behind every rate limit (src/rate-limits/rate-limit.store.ts) on a real server. Windows
// and blocks are moved into the past in the table rather than waited for.
describe('RateLimitStore', () => {
  let db: TestDatabase;
  let store: RateLimitStore;
  const MINUTE = 60_000;

  beforeAll(async () => {
    db = await createTestDatabase();
    store = new RateLimitStore(new StatementRunner(db.pool, true) as Sql);
  });
  afterAll(() => db.drop());

  const hits = async (key: string, count: number, limit = 3, block = 2 * MINUTE) => {
    const records = [];
    for (let i = 0; i < count; i++) records.push(await store.increment(key, MINUTE, limit, block, 'test'));
    return records;
  };
  const age = (key: string, column: 'window_ends_at' | 'blocked_until') =>
    db.pool.query(`UPDATE rate_limits SET ${column} = now() - interval '1 second' WHERE key = $1`, [key]);

  it('counts hits in the window and blocks for the block duration once they exceed the limit', async () => {
    const records = await hits(randomUUID(), 5);

    expect(records.map((r) => [r.totalHits, r.isBlocked])).toEqual([
      [1, false],
      [2, false],
      [3, false],
      [4, true],
      [4, true],
    ]);
    expect(records[0].timeToExpire).toBe(60);
    expect(records[0].timeToBlockExpire).toBe(0);
    expect(records[4].timeToBlockExpire).toBe(120);
  });

  it('starts over at one hit when the window or the block has passed', async () => {
    const [open, blocked] = [randomUUID(), randomUUID()];
    await hits(open, 2);
    await hits(blocked, 4);
    await age(open, 'window_ends_at');
    await age(blocked, 'blocked_until');

    for (const key of [open, blocked]) {
      expect(await store.increment(key, MINUTE, 3, MINUTE, 'test')).toEqual({
        totalHits: 1,
        timeToExpire: 60,
        isBlocked: false,
        timeToBlockExpire: 0,
      });
    }
  });

  it('blocks at the first hit with a limit below one, and blocks for one window when the block is 0', async () => {
    expect((await hits(randomUUID(), 1, 0))[0]).toEqual(expect.objectContaining({ isBlocked: true }));
    const [, , , fourth] = await hits(randomUUID(), 4, 3, 0);
    expect(fourth).toEqual(expect.objectContaining({ isBlocked: true, timeToBlockExpire: 60 }));
  });

  it('counts every one of many simultaneous hits on one key exactly once', async () => {
    const key = randomUUID();
    const records = await Promise.all(Array.from({ length: 40 }, () => store.increment(key, MINUTE, 10, MINUTE, 't')));

    expect(records.filter((r) => !r.isBlocked)).toHaveLength(10);
    expect(records.map((r) => r.totalHits).sort((a, b) => a - b)).toEqual([
      ...Array.from({ length: 10 }, (_, i) => i + 1),
      ...Array(30).fill(11),
    ]);
  });

  it('forgets a key on reset', async () => {
    const key = randomUUID();
    await hits(key, 4);
    await store.reset(key);
    expect((await hits(key, 1))[0]).toEqual(expect.objectContaining({ totalHits: 1, isBlocked: false }));
  });

  it('purges expired rows in batches, passing over rows another transaction holds', async () => {
    await db.pool.query('DELETE FROM rate_limits');
    const [live, blocked, held] = [randomUUID(), randomUUID(), randomUUID()];
    const expired = Array.from({ length: 7 }, () => randomUUID());
    for (const key of [live, blocked, held, ...expired]) await hits(key, key === blocked ? 4 : 1);
    for (const key of [held, ...expired]) await age(key, 'window_ends_at');
    await age(blocked, 'window_ends_at'); // its block still runs

    const holder: PoolClient = await db.pool.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT 1 FROM rate_limits WHERE key = $1 FOR UPDATE', [held]);
      expect(await store.purgeExpired(3, 10)).toBe(7);
    } finally {
      await holder.query('ROLLBACK');
      holder.release();
    }
    const keys = (await db.pool.query<{ key: string }>('SELECT key FROM rate_limits')).rows.map((r) => r.key);
    expect(keys.sort()).toEqual([live, blocked, held].sort());
    expect(await store.purgeExpired()).toBe(1);
  });
});
