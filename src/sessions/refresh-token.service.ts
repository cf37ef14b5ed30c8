import { Injectable, UnauthorizedException } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { v7 as uuidv7 } from 'uuid';
import type { AppConfig } from '../config/configuration';
import {
  decodeRefreshToken,
  encodeRefreshToken,
  newKeyNonce,
  refreshTokenKey,
  signRefreshToken,
  verifyRefreshToken,
  type RefreshToken,
} from './refresh-token';
import { Session } from './session.entity';

export interface ClientInfo {
  userAgent?: string;
  ip?: string;
}

export interface IssuedSession {
  userId: string;
  sessionId: string;
  refreshToken: string;
  /** When the session last proved the password: the access token's auth_time. */
  authenticatedAt: Date;
}

const INVALID_REFRESH = 'The refresh token is invalid, expired or revoked';

/**
 * Opens sessions and rotates their refresh tokens. Each rotation moves the session to the next generation;
 * only the current generation's token works. A genuine token of an older generation coming back means two
 * parties hold the session's tokens (one stole them), so the whole session is revoked, however many
 * rotations ago that token was replaced. A token the server never issued is only refused: the session id
 * is no secret (every access token carries it), so a guess must not sign anyone out.
 */
@Injectable()
export class RefreshTokenService {
  private readonly serverSecret: string;
  private readonly ttlS: number;
  private readonly maxLifetimeS: number;

  constructor(
    @InjectRepository(Session) private readonly sessions: Repository<Session>,
    config: ConfigService<AppConfig, true>,
  ) {
    const auth = config.get('auth', { infer: true });
    this.serverSecret = auth.jwtSecret;
    this.ttlS = auth.refreshTokenTtlS;
    this.maxLifetimeS = auth.sessionMaxLifetimeS;
  }

  /** A new session for a user who has just proved the password, with its first refresh token. */
  async open(userId: string, client: ClientInfo): Promise<IssuedSession> {
    const sessionId = uuidv7();
    const nonce = newKeyNonce();
    const now = new Date();
    await this.sessions.insert({
      id: sessionId,
      userId,
      refreshKeyNonce: nonce,
      refreshGeneration: 0,
      authenticatedAt: now,
      createdAt: now,
      lastUsedAt: now,
      expiresAt: new Date(now.getTime() + Math.min(this.ttlS, this.maxLifetimeS) * 1000),
      userAgent: client.userAgent?.slice(0, 512) ?? null,
      ip: client.ip ?? null,
    });
    return { userId, sessionId, refreshToken: this.token(nonce, sessionId, 0), authenticatedAt: now };
  }

  /**
   * Exchanges the current refresh token for the next generation's, atomically: of two concurrent uses of
   * one token, one wins and the other is an older generation by the time it lands, so it revokes the
   * session. The idle expiry slides forward but never past the session's absolute end.
   */
  async rotate(refreshToken: string, client: ClientInfo): Promise<IssuedSession> {
    const presented = decodeRefreshToken(refreshToken);
    const nonce = presented && (await this.nonceOf(presented.sessionId));
    if (!presented || !nonce || !verifyRefreshToken(refreshTokenKey(this.serverSecret, nonce), presented)) {
      throw new UnauthorizedException(INVALID_REFRESH);
    }
    const advanced = await this.advance(presented, client);
    if (!advanced) {
      await this.revokeIfSuperseded(presented);
      throw new UnauthorizedException(INVALID_REFRESH);
    }
    const generation = presented.generation + 1;
    return {
      userId: advanced.user_id,
      sessionId: presented.sessionId,
      refreshToken: this.token(nonce, presented.sessionId, generation),
      authenticatedAt: advanced.authenticated_at,
    };
  }

  /** Sessions opened before refresh tokens had generations have no nonce: their tokens are refused. */
  private async nonceOf(sessionId: string): Promise<Buffer | null | undefined> {
    const session = await this.sessions.findOne({ select: { refreshKeyNonce: true }, where: { id: sessionId } });
    return session?.refreshKeyNonce;
  }

  private async advance(
    presented: RefreshToken,
    client: ClientInfo,
  ): Promise<{ user_id: string; authenticated_at: Date } | undefined> {
    const result = await this.sessions
      .createQueryBuilder()
      .update()
      .set({
        refreshGeneration: () => 'refresh_generation + 1',
        expiresAt: () => 'least(now() + make_interval(secs => :ttl), created_at + make_interval(secs => :max))',
        lastUsedAt: () => 'now()',
        ...(client.userAgent && { userAgent: client.userAgent.slice(0, 512) }),
        ...(client.ip && { ip: client.ip }),
      })
      .where('id = :id AND refresh_generation = :generation AND revoked_at IS NULL', {
        id: presented.sessionId,
        generation: presented.generation,
      })
      .andWhere('expires_at > now() AND created_at + make_interval(secs => :max) > now()')
      .setParameters({ ttl: this.ttlS, max: this.maxLifetimeS })
      .returning(['userId', 'authenticatedAt'])
      .execute();
    return (result.raw as { user_id: string; authenticated_at: Date }[])[0];
  }

  private async revokeIfSuperseded({ sessionId, generation }: RefreshToken): Promise<void> {
    await this.sessions
      .createQueryBuilder()
      .update()
      .set({ revokedAt: () => 'now()' })
      .where('id = :sessionId AND refresh_generation > :generation AND revoked_at IS NULL', { sessionId, generation })
      .execute();
  }

  private token(nonce: Buffer, sessionId: string, generation: number): string {
    return encodeRefreshToken(signRefreshToken(refreshTokenKey(this.serverSecret, nonce), sessionId, generation));
  }
}
