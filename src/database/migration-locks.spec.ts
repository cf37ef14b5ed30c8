import { inspect } from 'node:util';
import { isLockTimeout, lockGiveUpBoundMs, MigrationError, MigrationStepError, retryDelayMs } from './migration-locks';

const limits = { lockTimeoutMs: 5_000, statementTimeoutMs: 600_000, lockRetries: 5, retryDelayMs: 2_000 };

describe('migration lock bounds', () => {
  it('doubles the pause before each retry, up to 60 s', () => {
    expect([1, 2, 3, 4, 5, 6, 7].map((attempt) => retryDelayMs(limits, attempt))).toEqual([
      2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000,
    ]);
  });

  it('bounds the time spent on one migration: every attempt at lock_timeout plus the pauses', () => {
    expect(lockGiveUpBoundMs(limits)).toBe(6 * 5_000 + 2_000 + 4_000 + 8_000 + 16_000 + 32_000);
    expect(lockGiveUpBoundMs({ ...limits, lockRetries: 0 })).toBe(5_000);
  });

  it('recognises a lock timeout from the driver, from TypeORM and from a failed migration', () => {
    const driverError = Object.assign(new Error('canceling statement due to lock timeout'), { code: '55P03' });
    expect(isLockTimeout(driverError)).toBe(true);
    expect(isLockTimeout({ message: 'query failed', driverError })).toBe(true);
    expect(isLockTimeout(new MigrationStepError('Add1700000000000', 'up', driverError))).toBe(true);
    expect(isLockTimeout(Object.assign(new Error('statement timeout'), { code: '57014' }))).toBe(false);
    expect(isLockTimeout(undefined)).toBe(false);
  });

  it('prints a failed migration as one line, whatever prints it', () => {
    const error = new MigrationStepError('Add1700000000000', 'down', new Error('canceling statement\n due to x'));
    expect(error.message).toBe('Migration Add1700000000000 (down) failed: canceling statement due to x');
    expect(inspect(error)).toBe(`MigrationError: ${error.message}`);
    expect(String(error.stack)).not.toContain('\n');
    expect(inspect(new MigrationError('gave up'))).toBe('MigrationError: gave up');
  });
});
