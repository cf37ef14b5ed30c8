import { Test } from '@nestjs/testing';
import { RateLimitedException } from '../http/rate-limited.exception';
import { RefreshTokenService } from '../sessions/refresh-token.service';
import { SessionsService } from '../sessions/sessions.service';
import { PasswordAttempts } from '../rate-limits/password-attempts';
import { PasswordService } from '../users/password.service';
import type { User } from '../users/user.entity';
import { UsersService } from '../users/users.service';
import { AuthService } from './auth.service';
import { TokenService } from './token.service';
import { outcome } from '../../test/support/outcome';

const AT = new Date('2026-01-01T00:00:00.000Z');
const ADA: User = {
  id: '0193d6c2-7d4e-7c1a-9f1e-3c2b1a0f9e8d',
  email: 'ada@example.com',
  name: 'Ada',
  passwordHash: '$argon2id$stored',
  createdAt: AT,
  updatedAt: AT,
};
const PUBLIC_ADA = { id: ADA.id, email: ADA.email, name: ADA.name, createdAt: AT, updatedAt: AT };
const ISSUED = { userId: ADA.id, sessionId: '0193d6c2-7d4e-7c1a-9f1e-000000000001', refreshToken: 'refresh-1' };
const CLIENT = { userAgent: 'unit/1.0', ip: '127.0.0.1' };
const INVALID_CREDENTIALS = { status: 401, detail: 'The email or password is incorrect' };

describe('AuthService', () => {
  let service: AuthService;
  const users = { create: jest.fn(), findWithPassword: jest.fn(), findOne: jest.fn(), rehashPassword: jest.fn() };
  const passwords = { verify: jest.fn(), needsRehash: jest.fn() };
  const sessions = { revoke: jest.fn(), purgeDead: jest.fn() };
  const refreshTokens = { open: jest.fn(), rotate: jest.fn() };
  const tokens = { accessToken: jest.fn(), expiresIn: 900 };
  const attempts = { verify: jest.fn() };

  beforeEach(async () => {
    for (const fake of [users, passwords, sessions, refreshTokens, attempts].flatMap((group) => Object.values(group))) {
      fake.mockReset();
    }
    tokens.accessToken.mockReset().mockImplementation(async (userId, sessionId) => `access:${userId}:${sessionId}`);
    refreshTokens.open.mockResolvedValue(ISSUED);
    attempts.verify.mockImplementation((_email: string, check: () => Promise<boolean>) => check());
    const moduleRef = await Test.createTestingModule({
      providers: [
        AuthService,
        { provide: UsersService, useValue: users },
        { provide: PasswordService, useValue: passwords },
        { provide: SessionsService, useValue: sessions },
        { provide: RefreshTokenService, useValue: refreshTokens },
        { provide: TokenService, useValue: tokens },
        { provide: PasswordAttempts, useValue: attempts },
      ],
    }).compile();
    service = moduleRef.get(AuthService);
  });

  const signedIn = {
    user: PUBLIC_ADA,
    accessToken: `access:${ADA.id}:${ISSUED.sessionId}`,
    refreshToken: 'refresh-1',
    tokenType: 'Bearer',
    expiresIn: 900,
  };

  it('registers the user and signs them in on a new session', async () => {
    users.create.mockResolvedValue(PUBLIC_ADA);
    const answer = await service.register({ email: ADA.email, password: 'correct horse', name: 'Ada' }, CLIENT);
    expect(users.create).toHaveBeenCalledWith(ADA.email, 'Ada', 'correct horse');
    expect(refreshTokens.open).toHaveBeenCalledWith(ADA.id, CLIENT);
    expect(answer).toEqual(signedIn);
  });

  describe('login', () => {
    const credentials = { email: ADA.email, password: 'correct horse' };

    it('opens a session after the account’s counted password check and tidies dead sessions', async () => {
      users.findWithPassword.mockResolvedValue(ADA);
      passwords.verify.mockResolvedValue(true);
      passwords.needsRehash.mockReturnValue(false);
      expect(await service.login(credentials, CLIENT)).toEqual(signedIn);
      expect(passwords.verify).toHaveBeenCalledWith(ADA.passwordHash, 'correct horse', ADA.email);
      expect(attempts.verify).toHaveBeenCalledWith(ADA.email, expect.any(Function));
      expect(sessions.purgeDead).toHaveBeenCalledWith(ADA.id);
      expect(users.rehashPassword).not.toHaveBeenCalled();
    });

    it('upgrades a hash made with older parameters, with the password just proven', async () => {
      users.findWithPassword.mockResolvedValue(ADA);
      passwords.verify.mockResolvedValue(true);
      passwords.needsRehash.mockReturnValue(true);
      await service.login(credentials, CLIENT);
      expect(users.rehashPassword).toHaveBeenCalledWith(ADA.id, 'correct horse');
    });

    it('answers a wrong password with 401 after a counted check and opens no session', async () => {
      users.findWithPassword.mockResolvedValue(ADA);
      passwords.verify.mockResolvedValue(false);
      expect(await outcome(service.login(credentials, CLIENT))).toEqual(INVALID_CREDENTIALS);
      expect(attempts.verify).toHaveBeenCalledWith(ADA.email, expect.any(Function));
      expect(refreshTokens.open).not.toHaveBeenCalled();
    });

    it('answers an unknown email with the same 401, after the same password check', async () => {
      users.findWithPassword.mockResolvedValue(null);
      passwords.verify.mockResolvedValue(false);
      expect(await outcome(service.login({ ...credentials, email: 'nobody@example.com' }, CLIENT))).toEqual(
        INVALID_CREDENTIALS,
      );
      // Verifying against nothing costs as much as a real check: the answer time does not tell accounts apart.
      expect(passwords.verify).toHaveBeenCalledWith(undefined, 'correct horse', 'nobody@example.com');
      expect(attempts.verify).toHaveBeenCalledWith('nobody@example.com', expect.any(Function));
      expect(refreshTokens.open).not.toHaveBeenCalled();
    });

    it('answers an email locked out by failures with 429 and its Retry-After, without checking the password', async () => {
      users.findWithPassword.mockResolvedValue(ADA);
      attempts.verify.mockRejectedValue(new RateLimitedException(120));
      const error = await service.login(credentials, CLIENT).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(RateLimitedException);
      expect((error as RateLimitedException).retryAfterSeconds).toBe(120);
      expect(passwords.verify).not.toHaveBeenCalled();
      expect(refreshTokens.open).not.toHaveBeenCalled();
    });
  });

  it('refreshes: rotates the refresh token and answers for the session’s user', async () => {
    refreshTokens.rotate.mockResolvedValue(ISSUED);
    users.findOne.mockResolvedValue(PUBLIC_ADA);
    expect(await service.refresh('refresh-0', CLIENT)).toEqual(signedIn);
    expect(refreshTokens.rotate).toHaveBeenCalledWith('refresh-0', CLIENT);
    expect(users.findOne).toHaveBeenCalledWith(ADA.id);
  });

  it('logs out by revoking the caller’s session', async () => {
    await service.logout(ISSUED.sessionId);
    expect(sessions.revoke).toHaveBeenCalledWith(ISSUED.sessionId);
  });
});
