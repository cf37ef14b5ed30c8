import { Test } from '@nestjs/testing';
import { getRepositoryToken } from '@nestjs/typeorm';
import { DatabaseError } from 'pg';
import { QueryFailedError } from 'typeorm';
import { PasswordAttempts } from '../rate-limits/password-attempts';
import { RecentAuthentication } from '../sessions/recent-authentication';
import { SessionsService } from '../sessions/sessions.service';
import { PasswordService } from './password.service';
import { User } from './user.entity';
import { UsersService } from './users.service';
import { outcome } from '../../test/support/outcome';

const ID = '0193d6c2-7d4e-7c1a-9f1e-3c2b1a0f9e8d';
const SESSION = '0193d6c2-7d4e-7c1a-9f1e-000000000001';
const AT = new Date('2026-01-01T00:00:00.000Z');
const ADA: User = {
  id: ID,
  email: 'ada@example.com',
  name: 'Ada',
  passwordHash: '$argon2id$old',
  createdAt: AT,
  updatedAt: AT,
};

function sqlError(code: string): QueryFailedError {
  const driverError = Object.assign(new DatabaseError('duplicate key value', 0, 'error'), { code });
  return new QueryFailedError('UPDATE users SET email = $1', ['bob@example.com'], driverError);
}

describe('UsersService', () => {
  let service: UsersService;
  const inserted = { generatedMaps: [{ id: ID, createdAt: AT, updatedAt: AT }] };
  // createQueryBuilder().insert().values(…).returning(…).execute()
  const insert = { values: jest.fn(), execute: jest.fn() };
  const users = {
    createQueryBuilder: () => ({ insert: () => insert }),
    findOneBy: jest.fn(),
    update: jest.fn(),
    delete: jest.fn(),
  };
  const passwords = { hash: jest.fn(), verify: jest.fn(), refuseIfBusy: jest.fn() };
  const sessions = { revokeAllExcept: jest.fn(), renewAuthentication: jest.fn() };
  const recentAuthentication = { require: jest.fn() };
  const attempts = { verify: jest.fn(), change: jest.fn() };
  // Signed in just now: recent enough for an email change or a deletion.
  const caller = { id: ID, sessionId: SESSION, authTime: Math.floor(Date.now() / 1000) };

  beforeEach(async () => {
    for (const fake of [...Object.values(insert), users.findOneBy, users.update, users.delete]) fake.mockReset();
    for (const fake of [...Object.values(passwords), ...Object.values(sessions), recentAuthentication.require]) {
      fake.mockReset();
    }
    insert.values.mockReturnValue({ returning: () => insert });
    attempts.change.mockReset().mockResolvedValue(undefined);
    attempts.verify.mockReset().mockImplementation((_email: string, check: () => Promise<boolean>) => check());
    passwords.hash.mockImplementation(async (password: string) => `$argon2id$hash-of-${password}`);
    const moduleRef = await Test.createTestingModule({
      providers: [
        UsersService,
        { provide: getRepositoryToken(User), useValue: users },
        { provide: PasswordService, useValue: passwords },
        { provide: SessionsService, useValue: sessions },
        { provide: RecentAuthentication, useValue: recentAuthentication },
        { provide: PasswordAttempts, useValue: attempts },
      ],
    }).compile();
    service = moduleRef.get(UsersService);
  });

  describe('create', () => {
    it('stores the password hash, never the password, and returns the public fields', async () => {
      insert.execute.mockResolvedValue(inserted);
      const user = await service.create('ada@example.com', 'Ada', 'correct horse');
      expect(insert.values).toHaveBeenCalledWith({
        id: expect.any(String),
        email: 'ada@example.com',
        name: 'Ada',
        passwordHash: '$argon2id$hash-of-correct horse',
      });
      expect(user).toEqual({ id: ID, email: 'ada@example.com', name: 'Ada', createdAt: AT, updatedAt: AT });
    });

    it('answers an email already taken (the unique index, 23505) with 409', async () => {
      insert.execute.mockRejectedValue(sqlError('23505'));
      expect(await outcome(service.create('ada@example.com', 'Ada', 'pw'))).toEqual({
        status: 409,
        detail: 'An account with this email already exists',
      });
    });

    it('lets any other database error through, for the filter to answer', async () => {
      const error = sqlError('57014');
      insert.execute.mockRejectedValue(error);
      await expect(service.create('ada@example.com', 'Ada', 'pw')).rejects.toBe(error);
    });
  });

  it('answers a user that does not exist with 404', async () => {
    users.findOneBy.mockResolvedValue(null);
    expect(await outcome(service.findOne(ID))).toEqual({ status: 404, detail: 'User not found' });
  });

  it('answers a change to an email another account has with 409', async () => {
    users.update.mockRejectedValue(sqlError('23505'));
    expect(await outcome(service.update(caller, { email: 'bob@example.com' }))).toEqual({
      status: 409,
      detail: 'An account with this email already exists',
    });
  });

  describe('changePassword', () => {
    const change = { currentPassword: 'correct horse', newPassword: 'battery staple' };

    it('answers a wrong current password with 403 after a counted check, changing nothing', async () => {
      users.findOneBy.mockResolvedValue(ADA);
      passwords.verify.mockResolvedValue(false);
      expect(await outcome(service.changePassword(caller, change))).toEqual({
        status: 403,
        detail: 'The current password is wrong',
      });
      expect(passwords.verify).toHaveBeenCalledWith('$argon2id$old', 'correct horse', ID);
      expect(attempts.change).toHaveBeenCalledWith(ID);
      expect(attempts.verify).toHaveBeenCalledWith(ADA.email, expect.any(Function));
      expect(users.update).not.toHaveBeenCalled();
      expect(sessions.revokeAllExcept).not.toHaveBeenCalled();
    });

    it('stores the new hash and signs out every session but the caller’s', async () => {
      users.findOneBy.mockResolvedValue(ADA);
      passwords.verify.mockResolvedValue(true);
      await service.changePassword(caller, change);
      expect(users.update).toHaveBeenCalledWith({ id: ID }, { passwordHash: '$argon2id$hash-of-battery staple' });
      // Both hashes count toward the user's own bound on argon2 work in flight.
      expect(passwords.verify).toHaveBeenCalledWith('$argon2id$old', 'correct horse', ID);
      expect(passwords.hash).toHaveBeenCalledWith('battery staple', ID);
      expect(sessions.revokeAllExcept).toHaveBeenCalledWith(ID, SESSION);
      expect(sessions.renewAuthentication).toHaveBeenCalledWith(SESSION);
    });
  });

  it('deletes the account by id after a recent sign-in (its sessions and tasks go by cascade)', async () => {
    await service.remove(caller);
    expect(recentAuthentication.require).toHaveBeenCalledWith(caller);
    expect(users.delete).toHaveBeenCalledWith({ id: ID });
  });
});
