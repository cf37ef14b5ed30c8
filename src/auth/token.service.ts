import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { JwtService } from '@nestjs/jwt';
import type { AppConfig } from '../config/configuration';

export interface AccessTokenClaims {
  sub: string;
  sid: string;
}

/** Short-lived HS256 access tokens naming the user (`sub`) and the session (`sid`) they belong to. */
@Injectable()
export class TokenService {
  readonly expiresIn: number;

  constructor(
    private readonly jwt: JwtService,
    config: ConfigService<AppConfig, true>,
  ) {
    this.expiresIn = config.get('auth', { infer: true }).accessTokenTtlS;
  }

  accessToken(userId: string, sessionId: string): Promise<string> {
    const claims: AccessTokenClaims = { sub: userId, sid: sessionId };
    return this.jwt.signAsync(claims);
  }
}
