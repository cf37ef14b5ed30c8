import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { createHash } from 'node:crypto';
import type { AppConfig } from '../config/configuration';

interface Entry {
  failures: number;
  windowEndsAt: number;
  blockedUntil: number;
}

// Bounds memory under an attack spraying many addresses; the oldest entries go first.
const MAX_TRACKED = 100_000;

/**
 * Failed logins per email: after THROTTLE_LOGIN_PER_EMAIL's count of failures within its window, that
 * email is locked for the window, whatever the password (so guessing from many addresses gets nowhere),
 * while successful logins never count. Per process, like the throttler's counters.
 */
@Injectable()
export class LoginFailures {
  private readonly entries = new Map<string, Entry>();
  private readonly limit: number;
  private readonly windowMs: number;

  constructor(config: ConfigService<AppConfig, true>) {
    ({ limit: this.limit, ttlMs: this.windowMs } = config.get('auth', { infer: true }).throttle.loginPerEmail);
  }

  /** Seconds until the email may try again, or 0. */
  retryAfterSeconds(email: string, now = Date.now()): number {
    const entry = this.entries.get(key(email));
    return entry && entry.blockedUntil > now ? Math.ceil((entry.blockedUntil - now) / 1000) : 0;
  }

  recordFailure(email: string, now = Date.now()): void {
    if (this.limit === 0) return;
    const id = key(email);
    let entry = this.entries.get(id);
    if (!entry || entry.windowEndsAt <= now) {
      this.entries.delete(id);
      if (this.entries.size >= MAX_TRACKED) this.entries.delete(this.entries.keys().next().value!);
      entry = { failures: 0, windowEndsAt: now + this.windowMs, blockedUntil: 0 };
      this.entries.set(id, entry);
    }
    entry.failures += 1;
    if (entry.failures >= this.limit) {
      entry.blockedUntil = now + this.windowMs;
      entry.windowEndsAt = entry.blockedUntil;
    }
  }

  reset(email: string): void {
    this.entries.delete(key(email));
  }
}

function key(email: string): string {
  return createHash('sha256').update(email.trim().toLowerCase()).digest('base64url');
}
