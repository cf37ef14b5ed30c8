import { Algorithm, hash, parseOptions, verify } from '@node-rs/argon2';
import { Injectable, type OnModuleInit } from '@nestjs/common';
import { availableParallelism } from 'node:os';
import { ConfigService } from '@nestjs/config';
import type { AppConfig } from '../config/configuration';
import { Semaphore } from '../common/semaphore';

/**
 * argon2id hashing on libuv's thread pool, never on the event loop. Verifying for an unknown account
 * spends the same work against a decoy hash, so response time does not reveal which emails exist.
 * At most ARGON2_CONCURRENCY hashes run at once (default: one core fewer than the machine has): a
 * burst of logins on all four pool threads would otherwise take every core from the requests that the
 * event loop and the database serve meanwhile; the rest of the burst waits its turn.
 */
@Injectable()
export class PasswordService implements OnModuleInit {
  private readonly options: { algorithm: Algorithm; memoryCost: number; timeCost: number; parallelism: number };
  private readonly slots: Semaphore;
  private decoy = '';

  constructor(config: ConfigService<AppConfig, true>) {
    const { concurrency, ...argon2 } = config.get('auth', { infer: true }).argon2;
    this.options = { algorithm: Algorithm.Argon2id, ...argon2 };
    this.slots = new Semaphore(concurrency || Math.max(1, availableParallelism() - 1));
  }

  async onModuleInit(): Promise<void> {
    this.decoy = await this.hash('decoy password for unknown accounts');
  }

  hash(password: string): Promise<string> {
    return this.slots.run(() => hash(password, this.options));
  }

  /** Compares in constant time (inside argon2); `storedHash` undefined burns the same cost and fails. */
  async verify(storedHash: string | undefined, password: string): Promise<boolean> {
    const matches = await this.slots.run(() => verify(storedHash ?? this.decoy, password)).catch(() => false);
    return matches && storedHash !== undefined;
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
}
