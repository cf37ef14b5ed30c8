import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';

/** The first response to an idempotent request, replayed to its retries. */
export interface StoredResponse<T> {
  status: number;
  body: T;
}

export interface StoredKey<T> {
  requestHash: Buffer;
  status: 'in_progress' | 'completed';
  response: StoredResponse<T> | null;
}

const TTL = "interval '24 hours'";
// A claim whose request never finished (the process died) is given up after this long; no request can
// run longer, because statement_timeout is far shorter.
const ABANDONED = "interval '1 minute'";

/**
 * The `idempotency_keys` table. Raw SQL because TypeORM's upsert cannot say "take the key only if it
 * is expired or abandoned" (ON CONFLICT … DO UPDATE … WHERE), and expiry is judged by the database's
 * clock, which every replica shares.
 */
@Injectable()
export class IdempotencyKeysRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Takes the key if it is free, expired or abandoned; also purges the user's other expired keys. */
  async claim(userId: string, key: string, requestHash: Buffer): Promise<boolean> {
    const rows: unknown[] = await this.dataSource.query(
      `WITH purged AS (
         DELETE FROM idempotency_keys WHERE user_id = $1 AND key <> $2 AND created_at < now() - ${TTL}
       )
       INSERT INTO idempotency_keys AS k (user_id, key, request_hash, status)
       VALUES ($1, $2, $3, 'in_progress')
       ON CONFLICT (user_id, key) DO UPDATE
         SET request_hash = EXCLUDED.request_hash, status = 'in_progress', response = NULL, created_at = now()
         WHERE k.created_at < now() - ${TTL} OR (k.status = 'in_progress' AND k.created_at < now() - ${ABANDONED})
       RETURNING 1`,
      [userId, key, requestHash],
    );
    return rows.length === 1;
  }

  /** Runs `work` and binds its response to the claimed key, in one transaction. */
  complete<T>(
    userId: string,
    key: string,
    work: (manager: EntityManager) => Promise<StoredResponse<T>>,
  ): Promise<StoredResponse<T>> {
    return this.dataSource.transaction(async (manager) => {
      const response = await work(manager);
      await manager.query(
        `UPDATE idempotency_keys SET status = 'completed', response = $3 WHERE user_id = $1 AND key = $2`,
        [userId, key, JSON.stringify(response)],
      );
      return response;
    });
  }

  /** Frees a claim whose work failed, so that a retry can succeed. */
  async release(userId: string, key: string): Promise<void> {
    await this.dataSource.query(
      `DELETE FROM idempotency_keys WHERE user_id = $1 AND key = $2 AND status = 'in_progress'`,
      [userId, key],
    );
  }

  async find<T>(userId: string, key: string): Promise<StoredKey<T> | undefined> {
    const rows: StoredKey<T>[] = await this.dataSource.query(
      `SELECT request_hash AS "requestHash", status, response FROM idempotency_keys
       WHERE user_id = $1 AND key = $2 AND created_at >= now() - ${TTL}`,
      [userId, key],
    );
    return rows[0];
  }
}
