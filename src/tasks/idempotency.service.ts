import { ConflictException, Injectable, UnprocessableEntityException } from '@nestjs/common';
import { createHash } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { IdempotencyKeysRepository, type StoredResponse } from './idempotency-keys.repository';

export type IdempotentResult<T> = StoredResponse<T> & { replayed: boolean };

const IN_PROGRESS = 'A request with this Idempotency-Key is still in progress; retry shortly';

/**
 * `Idempotency-Key` for creates, kept in PostgreSQL so every replica agrees. A request first claims its
 * (user, key); the work and the stored response then commit in one transaction, so a key is either
 * free, in flight, or bound to exactly one result.
 */
@Injectable()
export class IdempotencyService {
  constructor(private readonly keys: IdempotencyKeysRepository) {}

  async run<T>(
    userId: string,
    key: string,
    request: unknown,
    work: (manager: EntityManager) => Promise<StoredResponse<T>>,
  ): Promise<IdempotentResult<T>> {
    const requestHash = fingerprint(request);
    for (let attempt = 0; attempt < 2; attempt++) {
      if (await this.keys.claim(userId, key, requestHash)) {
        return { ...(await this.complete(userId, key, work)), replayed: false };
      }
      const existing = await this.keys.find<T>(userId, key);
      if (!existing) continue; // expired and purged in between: claim again
      if (!existing.requestHash.equals(requestHash)) {
        throw new UnprocessableEntityException('This Idempotency-Key was already used with a different request body');
      }
      if (existing.status === 'in_progress' || !existing.response) throw new ConflictException(IN_PROGRESS);
      return { ...existing.response, replayed: true };
    }
    throw new ConflictException(IN_PROGRESS);
  }

  private async complete<T>(
    userId: string,
    key: string,
    work: (manager: EntityManager) => Promise<StoredResponse<T>>,
  ): Promise<StoredResponse<T>> {
    try {
      return await this.keys.complete(userId, key, work);
    } catch (error) {
      // Nothing was created: free the key so that a retry can succeed.
      await this.keys.release(userId, key).catch(() => undefined);
      throw error;
    }
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
