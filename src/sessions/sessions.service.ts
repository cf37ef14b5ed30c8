import { Injectable, NotFoundException } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { IsNull, Not, Repository } from 'typeorm';
import type { AuthUser } from '../common/auth-user';
import { Sql } from '../database/sql';
import { ACTIVE_SESSION_CHECK } from './active-session';
import { SessionDto } from './dto/session.dto';
import { Session } from './session.entity';

/**
 * The sessions a user can see and end, and the revocation every request checks. Opening sessions and
 * rotating their refresh tokens is RefreshTokenService's.
 */
@Injectable()
export class SessionsService {
  constructor(
    @InjectRepository(Session) private readonly sessions: Repository<Session>,
    private readonly sql: Sql,
  ) {}

  /** Whether an access token's session still stands: not revoked, not expired, its user not deleted. */
  async isActive(sessionId: string, userId: string): Promise<boolean> {
    // Runs on every authenticated request, as a prepared statement.
    const { rowCount } = await this.sql.query({ text: ACTIVE_SESSION_CHECK, values: [sessionId, userId] });
    return rowCount > 0;
  }

  /** The caller's sessions that can still be used, most recently used first. */
  async listActive(user: AuthUser): Promise<SessionDto[]> {
    const sessions = await this.sessions
      .createQueryBuilder('s')
      .select(['s.id', 's.createdAt', 's.lastUsedAt', 's.expiresAt', 's.userAgent', 's.ip'])
      .where('s.user_id = :userId AND s.revoked_at IS NULL AND s.expires_at > now()', { userId: user.id })
      .orderBy('s.last_used_at', 'DESC')
      .addOrderBy('s.id', 'DESC')
      .getMany();
    return sessions.map((session) => SessionDto.from(session, user.sessionId));
  }

  /** Ends one of the user's active sessions; any other id, another user's included, is not found. */
  async end(userId: string, sessionId: string): Promise<void> {
    const { affected } = await this.sessions
      .createQueryBuilder()
      .update()
      .set({ revokedAt: () => 'now()' })
      .where('id = :sessionId AND user_id = :userId AND revoked_at IS NULL AND expires_at > now()', {
        sessionId,
        userId,
      })
      .execute();
    if (!affected) throw new NotFoundException(`Session ${sessionId} not found`);
  }

  async revoke(sessionId: string): Promise<void> {
    await this.sessions.update({ id: sessionId, revokedAt: IsNull() }, { revokedAt: () => 'now()' });
  }

  async revokeAllExcept(userId: string, keepSessionId: string): Promise<void> {
    await this.sessions.update({ userId, id: Not(keepSessionId), revokedAt: IsNull() }, { revokedAt: () => 'now()' });
  }

  /** The session has just proved the password again (e.g. by changing it): its next access tokens say so. */
  async renewAuthentication(sessionId: string, at = new Date()): Promise<void> {
    await this.sessions.update({ id: sessionId }, { authenticatedAt: at });
  }

  /** Housekeeping on login: a user's sessions that can never be used again. */
  async purgeDead(userId: string): Promise<void> {
    await this.sessions
      .createQueryBuilder()
      .delete()
      .where("user_id = :userId AND (expires_at < now() OR revoked_at < now() - interval '1 day')", { userId })
      .execute();
  }
}
