import { Injectable, UnauthorizedException } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { InjectRepository } from '@nestjs/typeorm';
import { IsNull, Repository } from 'typeorm';
import { v7 as uuidv7 } from 'uuid';
import type { AppConfig } from '../config/configuration';
import { Sql } from '../database/sql';
import { decodeRefreshToken, encodeRefreshToken, hashSecret, newRefreshToken } from './refresh-token';
import { Session } from './session.entity';
import { ACTIVE_SESSION_CHECK } from './active-session';

export interface ClientInfo {
  userAgent?: string;
  ip?: string;
}

export interface IssuedSession {
  userId: string;
  sessionId: string;
  refreshToken: string;
}

const INVALID_REFRESH = 'The refresh token is invalid, expired or revoked';
// How many rotated refresh tokens per session are remembered for reuse detection.
const KEPT_ROTATED = 32;

/** Login sessions: their refresh tokens (rotated on every use) and the revocation every request checks. */
@Injectable()
export class SessionsService {
  private readonly ttlMs: number;

  constructor(
    @InjectRepository(Session) private readonly sessions: Repository<Session>,
    private readonly sql: Sql,
    config: ConfigService<AppConfig, true>,
  ) {
    this.ttlMs = config.get('auth', { infer: true }).refreshTokenTtlS * 1000;
  }

  async create(userId: string, client: ClientInfo): Promise<IssuedSession> {
    const token = newRefreshToken(uuidv7());
    await this.sessions.insert({
      id: token.sessionId,
      userId,
      refreshTokenHash: hashSecret(token.secret),
      expiresAt: new Date(Date.now() + this.ttlMs),
      userAgent: client.userAgent?.slice(0, 512) ?? null,
      ip: client.ip ?? null,
    });
    return { userId, sessionId: token.sessionId, refreshToken: encodeRefreshToken(token) };
  }

  /**
   * Exchanges a refresh token for a new one, atomically: of two concurrent uses, one wins. A token that
   * was already rotated coming back means two parties hold it (one stole it), so the whole session is
   * revoked: the thief's and the owner's tokens both stop working. A token that was never issued is
   * only refused.
   */
  async rotate(refreshToken: string, client: ClientInfo): Promise<IssuedSession> {
    const presented = decodeRefreshToken(refreshToken);
    if (!presented) throw new UnauthorizedException(INVALID_REFRESH);
    const next = newRefreshToken(presented.sessionId);
    const presentedHash = hashSecret(presented.secret);

    const rotated = await this.sessions
      .createQueryBuilder()
      .update()
      .set({
        refreshTokenHash: hashSecret(next.secret),
        rotatedTokenHashes: () =>
          `(array_append(rotated_token_hashes, refresh_token_hash))[greatest(1, cardinality(rotated_token_hashes) - ${KEPT_ROTATED - 2}):]`,
        expiresAt: new Date(Date.now() + this.ttlMs),
        lastUsedAt: () => 'now()',
        ...(client.userAgent && { userAgent: client.userAgent.slice(0, 512) }),
        ...(client.ip && { ip: client.ip }),
      })
      .where('id = :id AND refresh_token_hash = :hash AND revoked_at IS NULL AND expires_at > now()', {
        id: presented.sessionId,
        hash: presentedHash,
      })
      .returning(['userId'])
      .execute();
    const row = (rotated.raw as { user_id: string }[])[0];
    if (row) return { userId: row.user_id, sessionId: next.sessionId, refreshToken: encodeRefreshToken(next) };

    await this.sessions
      .createQueryBuilder()
      .update()
      .set({ revokedAt: () => 'now()' })
      .where('id = :id AND revoked_at IS NULL AND :hash = ANY(rotated_token_hashes)', {
        id: presented.sessionId,
        hash: presentedHash,
      })
      .execute();
    throw new UnauthorizedException(INVALID_REFRESH);
  }

  /** Whether an access token's session still stands: not revoked, not expired, its user not deleted. */
  async isActive(sessionId: string, userId: string): Promise<boolean> {
    // Runs on every authenticated request, as a prepared statement.
    const { rowCount } = await this.sql.query({ text: ACTIVE_SESSION_CHECK, values: [sessionId, userId] });
    return rowCount > 0;
  }

  async revoke(sessionId: string): Promise<void> {
    await this.sessions.update({ id: sessionId, revokedAt: IsNull() }, { revokedAt: () => 'now()' });
  }

  async revokeAllExcept(userId: string, keepSessionId: string): Promise<void> {
    await this.sessions
      .createQueryBuilder()
      .update()
      .set({ revokedAt: () => 'now()' })
      .where('user_id = :userId AND id <> :keepSessionId AND revoked_at IS NULL', { userId, keepSessionId })
      .execute();
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
