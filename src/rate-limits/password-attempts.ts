import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { createHash } from 'node:crypto';
import type { RateLimit } from '../config/auth.config';
import type { AppConfig } from '../config/configuration';
import { RateLimitedException } from '../http/rate-limited.exception';
import { RateLimitStore } from './rate-limit.store';

/**
 * The limits on password checks, counted in RateLimitStore so that they hold across replicas:
 * - failed checks per account (THROTTLE_LOGIN_PER_EMAIL), shared by every route that checks a password
 *   and keyed by the normalized email, known to an account or not. An attempt is reserved before its hash
 *   is computed, so N simultaneous guesses evaluate at most the limit's worth of passwords; a success
 *   clears the count. Past the limit the account is locked for the window, whatever the password.
 * - password changes per user (THROTTLE_PASSWORD_CHANGE_PER_USER), right or wrong.
 */
@Injectable()
export class PasswordAttempts {
  private readonly perAccount: RateLimit;
  private readonly changesPerUser: RateLimit;

  constructor(
    private readonly store: RateLimitStore,
    config: ConfigService<AppConfig, true>,
  ) {
    const { throttle } = config.get('auth', { infer: true });
    [this.perAccount, this.changesPerUser] = [throttle.loginPerEmail, throttle.passwordChangePerUser];
  }

  /** `check`'s answer, or 429 without running it once the account has used up its failures. */
  async verify(email: string, check: () => Promise<boolean>): Promise<boolean> {
    const key = `account:${createHash('sha256').update(email.trim().toLowerCase()).digest('base64url')}`;
    await this.hit(key, this.perAccount, 'Too many failed password attempts for this account; retry later');
    const verified = await check();
    if (verified && this.perAccount.limit > 0) await this.store.reset(key);
    return verified;
  }

  /** Counts one password change by the user: 429 past the limit. */
  change(userId: string): Promise<void> {
    return this.hit(`password-change:${userId}`, this.changesPerUser, 'Too many password changes; retry later');
  }

  private async hit(key: string, { limit, ttlMs }: RateLimit, message: string): Promise<void> {
    if (limit === 0) return;
    const { isBlocked, timeToBlockExpire } = await this.store.increment(key, ttlMs, limit, ttlMs);
    if (isBlocked) throw new RateLimitedException(Math.max(1, timeToBlockExpire), message);
  }
}
