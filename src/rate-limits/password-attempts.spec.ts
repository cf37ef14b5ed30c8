import type { ConfigService } from '@nestjs/config';
import { loadConfig, type AppConfig } from '../config/configuration';
import { RateLimitedException } from '../http/rate-limited.exception';
import { PasswordAttempts } from './password-attempts';
import type { RateLimitStore } from './rate-limit.store';

const OPEN = { totalHits: 1, timeToExpire: 900, isBlocked: false, timeToBlockExpire: 0 };
const BLOCKED = { totalHits: 11, timeToExpire: 900, isBlocked: true, timeToBlockExpire: 840 };

describe('PasswordAttempts', () => {
  const store = { increment: jest.fn(), reset: jest.fn() };
  const check = jest.fn<Promise<boolean>, []>();

  function attempts(env: Record<string, string> = {}): PasswordAttempts {
    const config = loadConfig({ NODE_ENV: 'test', ...env });
    const service = { get: (key: keyof AppConfig) => config[key] } as unknown as ConfigService<AppConfig, true>;
    return new PasswordAttempts(store as unknown as RateLimitStore, service);
  }

  beforeEach(() => {
    for (const fake of [store.increment, store.reset, check]) fake.mockReset();
    store.increment.mockResolvedValue(OPEN);
  });

  it('reserves the attempt before the check, under one key for every spelling of the email', async () => {
    const reservedBeforeCheck: number[] = [];
    check.mockImplementation(async () => {
      reservedBeforeCheck.push(store.increment.mock.calls.length);
      return false;
    });
    const service = attempts();
    expect(await service.verify('Ada@Example.com ', check)).toBe(false);
    expect(await service.verify(' ada@example.COM', check)).toBe(false);

    const [[first, ttl, limit, block], [second]] = store.increment.mock.calls as [string, number, number, number][];
    expect([first, ttl, limit, block]).toEqual([expect.stringMatching(/^account:/), 900_000, 10, 900_000]);
    expect(reservedBeforeCheck).toEqual([1, 2]);
    expect(second).toBe(first);
    expect(first).not.toContain('ada');
    expect(store.reset).not.toHaveBeenCalled();
  });

  it('clears the count after a right password', async () => {
    check.mockResolvedValue(true);
    expect(await attempts().verify('ada@example.com', check)).toBe(true);
    expect(store.reset).toHaveBeenCalledWith(store.increment.mock.calls[0][0]);
  });

  it('answers 429 with the time left, without running the check, once the account is locked', async () => {
    store.increment.mockResolvedValue(BLOCKED);
    const error = await attempts()
      .verify('ada@example.com', check)
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(RateLimitedException);
    expect((error as RateLimitedException).retryAfterSeconds).toBe(840);
    expect(check).not.toHaveBeenCalled();
  });

  it('keeps the reservation when the check fails for another reason', async () => {
    check.mockRejectedValue(new Error('database gone'));
    await expect(attempts().verify('ada@example.com', check)).rejects.toThrow('database gone');
    expect(store.reset).not.toHaveBeenCalled();
  });

  it('counts password changes per user, and 429s past the limit', async () => {
    const service = attempts({ THROTTLE_PASSWORD_CHANGE_PER_USER: '3/60' });
    await service.change('user-1');
    expect(store.increment).toHaveBeenCalledWith('password-change:user-1', 60_000, 3, 60_000);
    store.increment.mockResolvedValue(BLOCKED);
    await expect(service.change('user-1')).rejects.toBeInstanceOf(RateLimitedException);
  });

  it('touches nothing for a limit that is off', async () => {
    const service = attempts({ THROTTLE_LOGIN_PER_EMAIL: '0/60', THROTTLE_PASSWORD_CHANGE_PER_USER: '0/60' });
    check.mockResolvedValue(true);
    expect(await service.verify('ada@example.com', check)).toBe(true);
    await service.change('user-1');
    expect(store.increment).not.toHaveBeenCalled();
    expect(store.reset).not.toHaveBeenCalled();
  });
});
