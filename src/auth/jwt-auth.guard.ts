import { type CanActivate, type ExecutionContext, Injectable, UnauthorizedException } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { JwtService } from '@nestjs/jwt';
import { SessionsService } from '../sessions/sessions.service';
import type { AuthUser } from '../common/auth-user';
import { IS_PUBLIC } from '../common/public.decorator';
import type { AccessTokenClaims } from './token.service';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
// RFC 6750 §2.1: credentials = "Bearer" 1*SP b64token
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;
const SESSION_ENDED = 'The session has ended; sign in again';

/**
 * Global: every route needs a bearer access token unless it is marked `@Public()`. The token must be an
 * HS256 JWT signed with our secret (never `alg: none`, never another algorithm; JwtModule's
 * verifyOptions), unexpired, with our issuer and audience, naming a user and a session that is still
 * active, so revocation is immediate on every replica. Guards run before pipes, so an ended session gets
 * 401 before any validation 400 or a 404.
 */
@Injectable()
export class JwtAuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly jwt: JwtService,
    private readonly sessions: SessionsService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [context.getHandler(), context.getClass()])) return true;
    const request = context.switchToHttp().getRequest<{ headers: { authorization?: string }; user?: AuthUser }>();
    const user = this.verify(request.headers.authorization);
    if (!(await this.sessions.isActive(user.sessionId, user.id))) throw new UnauthorizedException(SESSION_ENDED);
    request.user = user;
    return true;
  }

  private verify(header: string | undefined): AuthUser {
    const token = header === undefined ? undefined : BEARER.exec(header)?.[1];
    if (token === undefined) {
      const bearer = header !== undefined && /^Bearer\s/i.test(header);
      throw new UnauthorizedException(bearer ? 'The access token is invalid' : 'A bearer access token is required');
    }
    let claims: Partial<AccessTokenClaims>;
    try {
      claims = this.jwt.verify<Partial<AccessTokenClaims>>(token);
    } catch (error) {
      const expired = (error as { name?: string }).name === 'TokenExpiredError';
      throw new UnauthorizedException(expired ? 'The access token has expired' : 'The access token is invalid');
    }
    const { sub, sid, auth_time: authTime } = claims;
    if (typeof sub !== 'string' || typeof sid !== 'string' || !UUID.test(sub) || !UUID.test(sid)) {
      throw new UnauthorizedException('The access token is malformed');
    }
    // Absent from tokens issued before auth_time existed: they stay valid, but never count as a recent sign-in.
    if (authTime !== undefined && !Number.isSafeInteger(authTime)) {
      throw new UnauthorizedException('The access token is malformed');
    }
    return { id: sub, sessionId: sid, authTime };
  }
}
