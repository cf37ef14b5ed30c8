import { Module } from '@nestjs/common';
import { PasswordAttempts } from './password-attempts';
import { RateLimitStore } from './rate-limit.store';

/** Rate-limit counters shared by every replica, in PostgreSQL: the throttler's storage and PasswordAttempts. */
@Module({
  providers: [RateLimitStore, PasswordAttempts],
  exports: [RateLimitStore, PasswordAttempts],
})
export class RateLimitsModule {}
