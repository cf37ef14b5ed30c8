import { ConflictException, ForbiddenException, Injectable, NotFoundException } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { sqlState } from '../database/database-errors';
import { v7 as uuidv7 } from 'uuid';
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
  ) {}

  async create(email: string, name: string, password: string): Promise<UserDto> {
    const passwordHash = await this.passwords.hash(password);
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

  async update(id: string, changes: UpdateUserDto): Promise<UserDto> {
    await this.users.update({ id }, changes).catch(rethrowEmailTaken);
    return this.findOne(id);
  }

  /** Changes the password and signs out every other session; the caller's own stays signed in. */
  async changePassword(
    id: string,
    sessionId: string,
    { currentPassword, newPassword }: ChangePasswordDto,
  ): Promise<void> {
    const user = await this.users.findOneBy({ id });
    if (!(await this.passwords.verify(user?.passwordHash, currentPassword))) {
      throw new ForbiddenException('The current password is wrong');
    }
    await this.users.update({ id }, { passwordHash: await this.passwords.hash(newPassword) });
    await this.sessions.revokeAllExcept(id, sessionId);
  }

  async rehashPassword(id: string, password: string): Promise<void> {
    await this.users.update({ id }, { passwordHash: await this.passwords.hash(password) });
  }

  /** Deletes the account; its sessions and tasks go with it by ON DELETE CASCADE. */
  async remove(id: string): Promise<void> {
    await this.users.delete({ id });
  }
}

function rethrowEmailTaken(error: unknown): never {
  if (sqlState(error) === '23505') {
    throw new ConflictException(EMAIL_TAKEN);
  }
  throw error;
}
