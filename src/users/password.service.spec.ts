import type { ConfigService } from '@nestjs/config';
import type { AppConfig } from '../config/configuration';
import { OverloadedException, RateLimitedException } from '../http/rate-limited.exception';
import { HASHES_PER_ACCOUNT, PasswordService } from './password.service';

// Real argon2id at its cheapest cost, one slot: what is tested is who may hash, and the answer to the rest.
function service(maxWaiting: number): PasswordService {
  const argon2 = { memoryCost: 1024, timeCost: 1, parallelism: 1, concurrency: 1, maxWaiting };
  const config = { get: () => ({ argon2 }) } as unknown as ConfigService<AppConfig, true>;
  return new PasswordService(config);
}

const settle = (work: Promise<unknown>) =>
  work.then(
    (value) => value,
    (error: unknown) => error,
  );

describe('PasswordService bounds', () => {
  it(`answers an account's hash past ${HASHES_PER_ACCOUNT} in flight with 429 + Retry-After at once, others unaffected`, async () => {
    const passwords = service(10);
    const stored = await passwords.hash('correct horse', 'setup');
    const mine = Array.from({ length: HASHES_PER_ACCOUNT }, () => passwords.verify(stored, 'correct horse', 'ada'));
    const refused = await settle(passwords.verify(stored, 'correct horse', 'ada'));
    expect(refused).toBeInstanceOf(RateLimitedException);
    expect([
      (refused as RateLimitedException).getStatus(),
      (refused as RateLimitedException).retryAfterSeconds,
    ]).toEqual([429, 1]);
    expect(() => passwords.refuseIfBusy('ada')).toThrow(RateLimitedException);
    expect(() => passwords.refuseIfBusy('bob')).not.toThrow();

    expect(await Promise.all([...mine, passwords.verify(stored, 'correct horse', 'bob')])).toEqual([true, true, true]);
    expect(await passwords.verify(stored, 'wrong', 'ada')).toBe(false);
  });

  it('answers a hash that would wait past ARGON2_MAX_WAITING with 503 + Retry-After', async () => {
    const passwords = service(1);
    const admitted = [passwords.hash('a', 'one'), passwords.hash('b', 'two')];
    const refused = await settle(passwords.hash('c', 'three'));
    expect(refused).toBeInstanceOf(OverloadedException);
    expect([(refused as OverloadedException).getStatus(), (refused as OverloadedException).retryAfterSeconds]).toEqual([
      503, 1,
    ]);
    expect(() => passwords.refuseIfBusy('four')).toThrow(OverloadedException);
    await Promise.all(admitted);
    expect(await passwords.hash('c', 'three')).toMatch(/^\$argon2id\$/);
  });
});
