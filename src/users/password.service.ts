import { Algorithm, hash, parseOptions, verify } from '@node-rs/argon2';
import { Injectable, type OnModuleInit } from '@nestjs/common';
import { availableParallelism } from 'node:os';
import { ConfigService } from '@nestjs/config';
import type { AppConfig } from '../config/configuration';
import { FairSlots, SlotRefusedError } from '../common/fair-slots';
import { OverloadedException, RateLimitedException } from '../http/rate-limited.exception';

/** argon2 operations of one account in flight at once (running or waiting); one more gets 429. */
export const HASHES_PER_ACCOUNT = 2;

/**
 * argon2id hashing on libuv's thread pool, never on the event loop. Verifying for an unknown account
 * spends the same work against a decoy hash, so response time does not reveal which emails exist.
 *
 * Hashing is the one expensive thing a client can make the service do, so it is bounded three ways
 * (src/common/fair-slots.ts): at most ARGON2_CONCURRENCY hashes run at once (default: one core fewer than
 * the machine has, leaving the event loop and the database theirs); at most HASHES_PER_ACCOUNT per
 * account are in flight, past which the request gets 429 at once; at most ARGON2_MAX_WAITING wait, past
 * which it gets 503. A free slot goes to the account served least recently, so one account's burst
 * delays another's login by at most one hash per slot.
 */
@Injectable()
export class PasswordService implements OnModuleInit {
  private readonly options: { algorithm: Algorithm; memoryCost: number; timeCost: number; parallelism: number };
  private readonly slots: FairSlots;
  private decoy = '';

  constructor(config: ConfigService<AppConfig, true>) {
    const { concurrency, maxWaiting, ...argon2 } = config.get('auth', { infer: true }).argon2;
    this.options = { algorithm: Algorithm.Argon2id, ...argon2 };
    const slots = concurrency || Math.max(1, availableParallelism() - 1);
    this.slots = new FairSlots({ slots, maxWaiting, perOwner: HASHES_PER_ACCOUNT });
  }

  async onModuleInit(): Promise<void> {
    this.decoy = await hash('decoy password for unknown accounts', this.options);
  }

  /**
   * `owner` is whose password it is, the key of the per-account bound: the normalized email where the
   * caller is not signed in (login, register), the user id where it is (password change).
   */
  hash(password: string, owner: string): Promise<string> {
    return this.bounded(owner, () => hash(password, this.options));
  }

  /** Compares in constant time (inside argon2); `storedHash` undefined burns the same cost and fails. */
  async verify(storedHash: string | undefined, password: string, owner: string): Promise<boolean> {
    const matches = await this.bounded(owner, () => verify(storedHash ?? this.decoy, password).catch(() => false));
    return matches && storedHash !== undefined;
  }

  /**
   * Refuses at once (429/503) when `owner` could not start a hash now, so a request that would be refused
   * spends nothing on reading the stored hash first. Not a reservation: hash/verify still check.
   */
  refuseIfBusy(owner: string): void {
    try {
      this.slots.check(owner);
    } catch (error) {
      throw refusal(error);
    }
  }

  /** True when a hash was made with other parameters than today's, so a login can upgrade it. */
  needsRehash(storedHash: string): boolean {
    const current = parseOptions(storedHash);
    return (
      current.algorithm !== this.options.algorithm ||
      current.memoryCost !== this.options.memoryCost ||
      current.timeCost !== this.options.timeCost ||
      current.parallelism !== this.options.parallelism
    );
  }

  private bounded<T>(owner: string, work: () => Promise<T>): Promise<T> {
    return this.slots.run(owner, work).catch((error: unknown) => {
      throw refusal(error);
    });
  }
}

function refusal(error: unknown): unknown {
  if (!(error instanceof SlotRefusedError)) return error;
  if (error.reason === 'owner-busy') {
    return new RateLimitedException(1, 'Another password check for this account is in progress; retry shortly');
  }
  return new OverloadedException(1, 'Too many password checks are waiting; retry shortly');
}
