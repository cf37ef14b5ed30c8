import { ConflictException, ForbiddenException, Injectable, NotFoundException } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { sqlState } from '../database/database-errors';
import { v7 as uuidv7 } from 'uuid';
import type { AuthUser } from '../common/auth-user';
import { PasswordAttempts } from '../rate-limits/password-attempts';
import { RecentAuthentication } from '../sessions/recent-authentication';
import { SessionsService } from '../sessions/sessions.service';
import type { ChangePasswordDto } from './dto/change-password.dto';
import type { UpdateUserDto } from './dto/update-user.dto';
import { UserDto } from './dto/user.dto';
import { PasswordService } from './password.service';
import { User } from './user.entity';

const EMAIL_TAKEN = 'An account with this email already exists';

@Injectable()
export class UsersService {
  constructor(
    @InjectRepository(User) private readonly users: Repository<User>,
    private readonly passwords: PasswordService,
    private readonly sessions: SessionsService,
    private readonly recentAuthentication: RecentAuthentication,
    private readonly attempts: PasswordAttempts,
  ) {}

  async create(email: string, name: string, password: string): Promise<UserDto> {
    const passwordHash = await this.passwords.hash(password, email);
    const [user] = await this.users
      .createQueryBuilder()
      .insert()
      .values({ id: uuidv7(), email, name, passwordHash })
      .returning(['id', 'email', 'name', 'createdAt', 'updatedAt'])
      .execute()
      .then((result) => result.generatedMaps as User[], rethrowEmailTaken);
    return UserDto.from({ ...user, email, name });
  }

  /** The account and its password hash, for login; the unique index makes the lookup case-insensitive. */
  findWithPassword(email: string): Promise<User | null> {
    return this.users.createQueryBuilder('u').where('lower(u.email) = lower(:email)', { email }).getOne();
  }

  async findOne(id: string): Promise<UserDto> {
    const user = await this.users.findOneBy({ id });
    if (!user) throw new NotFoundException('User not found');
    return UserDto.from(user);
  }

  /** A new email needs a recent sign-in (it is what signs in); a new name does not. */
  async update(caller: AuthUser, changes: UpdateUserDto): Promise<UserDto> {
    if (changes.email !== undefined) this.recentAuthentication.require(caller);
    await this.users.update({ id: caller.id }, changes).catch(rethrowEmailTaken);
    return this.findOne(caller.id);
  }

  /**
   * Changes the password and signs out every other session; the caller's own stays signed in, and having
   * just proved the password, its next access tokens count as a recent sign-in. Changes are limited per
   * user, and a wrong current password counts toward the account's failures like a failed login.
   */
  async changePassword(
    { id, sessionId }: AuthUser,
    { currentPassword, newPassword }: ChangePasswordDto,
  ): Promise<void> {
    this.passwords.refuseIfBusy(id);
    await this.attempts.change(id);
    const user = await this.users.findOneBy({ id });
    const verify = () => this.passwords.verify(user?.passwordHash, currentPassword, id);
    if (!user || !(await this.attempts.verify(user.email, verify))) {
      throw new ForbiddenException('The current password is wrong');
    }
    await this.users.update({ id }, { passwordHash: await this.passwords.hash(newPassword, id) });
    await this.sessions.revokeAllExcept(id, sessionId);
    await this.sessions.renewAuthentication(sessionId);
  }

  async rehashPassword(id: string, password: string): Promise<void> {
    await this.users.update({ id }, { passwordHash: await this.passwords.hash(password, id) });
  }

  /** Deletes the account after a recent sign-in; its sessions and tasks go with it by ON DELETE CASCADE. */
  async remove(caller: AuthUser): Promise<void> {
    this.recentAuthentication.require(caller);
    await this.users.delete({ id: caller.id });
  }
}

function rethrowEmailTaken(error: unknown): never {
  if (sqlState(error) === '23505') {
    throw new ConflictException(EMAIL_TAKEN);
  }
  throw error;
}
