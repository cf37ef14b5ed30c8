import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { JwtService } from '@nestjs/jwt';
import type { AppConfig } from '../config/configuration';

export interface AccessTokenClaims {
  sub: string;
  sid: string;
  /** When the session last proved the password, in seconds since the epoch (OpenID Connect's claim). */
  auth_time: number;
}

/**
 * Short-lived HS256 access tokens naming the user (`sub`) and the session (`sid`) they belong to, and when
 * that session last proved the password (`auth_time`).
 */
@Injectable()
export class TokenService {
  readonly expiresIn: number;

  constructor(
    private readonly jwt: JwtService,
    config: ConfigService<AppConfig, true>,
  ) {
    this.expiresIn = config.get('auth', { infer: true }).accessTokenTtlS;
  }

  accessToken(userId: string, sessionId: string, authenticatedAt: Date): Promise<string> {
    const claims: AccessTokenClaims = {
      sub: userId,
      sid: sessionId,
      auth_time: Math.floor(authenticatedAt.getTime() / 1000),
    };
    return this.jwt.signAsync(claims);
  }
}
