import { ApiProperty } from '@nestjs/swagger';
import type { Session } from '../session.entity';

export class SessionDto {
  /** @example 0193d6c2-7d4e-7c1a-9f1e-3c2b1a0f9e8d */
  id: string;

  /** When the session was opened by a login (or registration). */
  createdAt: Date;

  /** When the session was opened or last refreshed. */
  lastUsedAt: Date;

  /** When the session ends unless it is refreshed before; never after its absolute lifetime. */
  expiresAt: Date;

  @ApiProperty({
    type: String,
    nullable: true,
    example: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5)',
    description: 'The User-Agent of the last login or refresh.',
  })
  userAgent: string | null;

  @ApiProperty({
    type: String,
    nullable: true,
    example: '203.0.113.7',
    description: 'The client address of the last login or refresh.',
  })
  ip: string | null;

  /** True for the session of the access token that made this request. */
  current: boolean;

  static from(
    session: Pick<Session, 'id' | 'createdAt' | 'lastUsedAt' | 'expiresAt' | 'userAgent' | 'ip'>,
    currentSessionId: string,
  ): SessionDto {
    return {
      id: session.id,
      createdAt: session.createdAt,
      lastUsedAt: session.lastUsedAt,
      expiresAt: session.expiresAt,
      userAgent: session.userAgent,
      ip: session.ip,
      current: session.id === currentSessionId,
    };
  }
}
