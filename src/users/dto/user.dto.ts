import type { User } from '../user.entity';

export class UserDto {
  /** @example 0193d6c2-7d4e-7c1a-9f1e-3c2b1a0f9e8d */
  id: string;
  /** Lower-cased. @example ada@example.com */
  email: string;
  /** @example Ada Lovelace */
  name: string;
  createdAt: Date;
  updatedAt: Date;

  static from(user: Pick<User, 'id' | 'email' | 'name' | 'createdAt' | 'updatedAt'>): UserDto {
    return { id: user.id, email: user.email, name: user.name, createdAt: user.createdAt, updatedAt: user.updatedAt };
  }
}
