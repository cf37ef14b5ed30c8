import { ConflictException, Injectable, UnprocessableEntityException } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { createHash } from 'node:crypto';
import { DataSource, type EntityManager } from 'typeorm';

/** The first response to an idempotent request, replayed to its retries. */
export interface StoredResponse<T> {
  status: number;
  body: T;
}

export type IdempotentResult<T> = StoredResponse<T> & { replayed: boolean };

const TTL = "interval '24 hours'";
// A claim whose request never finished (the process died) is given up after this long; no request can
// run longer, because statement_timeout is far shorter.
const ABANDONED = "interval '1 minute'";

/**
 * `Idempotency-Key` for creates, kept in PostgreSQL so every replica agrees. A request first claims its
 * (user, key) with an insert; the work and the stored response then commit in one transaction, so a
 * key is either free, in flight, or bound to exactly one result.
 */
@Injectable()
export class IdempotencyService {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async run<T>(
    userId: string,
    key: string,
    request: unknown,
    work: (manager: EntityManager) => Promise<StoredResponse<T>>,
  ): Promise<IdempotentResult<T>> {
    const requestHash = fingerprint(request);
    for (let attempt = 0; attempt < 2; attempt++) {
      if (await this.claim(userId, key, requestHash)) {
        return { ...(await this.complete(userId, key, work)), replayed: false };
      }
      const existing = await this.find<T>(userId, key);
      if (!existing) continue; // expired and purged in between: claim again
      if (!existing.request_hash.equals(requestHash)) {
        throw new UnprocessableEntityException('This Idempotency-Key was already used with a different request body');
      }
      if (existing.status === 'in_progress' || !existing.response) {
        throw new ConflictException('A request with this Idempotency-Key is still in progress; retry shortly');
      }
      return { ...existing.response, replayed: true };
    }
    throw new ConflictException('A request with this Idempotency-Key is still in progress; retry shortly');
  }

  /** Takes the key if it is free, expired or abandoned; also purges the user's other expired keys. */
  private async claim(userId: string, key: string, requestHash: Buffer): Promise<boolean> {
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

  private async complete<T>(
    userId: string,
    key: string,
    work: (manager: EntityManager) => Promise<StoredResponse<T>>,
  ): Promise<StoredResponse<T>> {
    try {
      return await this.dataSource.transaction(async (manager) => {
        const response = await work(manager);
        await manager.query(
          `UPDATE idempotency_keys SET status = 'completed', response = $3 WHERE user_id = $1 AND key = $2`,
          [userId, key, JSON.stringify(response)],
        );
        return response;
      });
    } catch (error) {
      // Nothing was created: free the key so that a retry can succeed.
      await this.dataSource
        .query(`DELETE FROM idempotency_keys WHERE user_id = $1 AND key = $2 AND status = 'in_progress'`, [userId, key])
        .catch(() => undefined);
      throw error;
    }
  }

  private async find<T>(userId: string, key: string) {
    const rows: { request_hash: Buffer; status: string; response: StoredResponse<T> | null }[] =
      await this.dataSource.query(
        `SELECT request_hash, status, response FROM idempotency_keys
       WHERE user_id = $1 AND key = $2 AND created_at >= now() - ${TTL}`,
        [userId, key],
      );
    return rows[0];
  }
}

/** SHA-256 of the request body in canonical JSON (sorted keys), so formatting does not matter. */
export function fingerprint(value: unknown): Buffer {
  return createHash('sha256').update(canonicalJson(value)).digest();
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.keys(value)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
