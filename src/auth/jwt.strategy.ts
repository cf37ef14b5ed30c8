import { Injectable, UnauthorizedException } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { PassportStrategy } from '@nestjs/passport';
import { ExtractJwt, Strategy } from 'passport-jwt';
import type { AppConfig } from '../config/configuration';
import { SessionsService } from '../sessions/sessions.service';
import type { AuthUser } from './auth-user';
import { jwtKey } from './jwt-key';
import { isSessionCheckDeferred, SESSION_ENDED } from './session-in-query';
import type { AccessTokenClaims } from './token.service';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * Accepts a bearer JWT signed with HS256 by this service (never `alg: none`, never another algorithm),
 * unexpired, with our issuer and audience, whose session is still active: revocation is immediate.
 */
@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy) {
  constructor(
    config: ConfigService<AppConfig, true>,
    private readonly sessions: SessionsService,
  ) {
    const auth = config.get('auth', { infer: true });
    super({
      jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
      // passport-jwt hands the key to jsonwebtoken untouched; its type omits KeyObject.
      secretOrKey: jwtKey(auth.jwtSecret) as unknown as Buffer,
      algorithms: ['HS256'],
      issuer: auth.issuer,
      audience: auth.audience,
      ignoreExpiration: false,
      passReqToCallback: true,
    });
  }

  async validate(request: object, claims: Partial<AccessTokenClaims>): Promise<AuthUser> {
    const { sub, sid } = claims;
    if (typeof sub !== 'string' || typeof sid !== 'string' || !UUID.test(sub) || !UUID.test(sid)) {
      throw new UnauthorizedException('The access token is malformed');
    }
    // The route's own statement checks the session (SessionCheckedByQuery).
    if (isSessionCheckDeferred(request)) return { id: sub, sessionId: sid, sessionPending: true };
    if (!(await this.sessions.isActive(sid, sub))) throw new UnauthorizedException(SESSION_ENDED);
    return { id: sub, sessionId: sid };
  }
}
