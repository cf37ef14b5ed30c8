import { type CanActivate, type ExecutionContext, Injectable, UnauthorizedException } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { SessionsService } from '../sessions/sessions.service';
import type { AuthUser } from '../common/auth-user';
import type { PublicRouteConfig } from '../common/public.decorator';
import type { AccessTokenClaims } from './token.service';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
// RFC 6750 §2.1: credentials = "Bearer" 1*SP b64token
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;
const SESSION_ENDED = 'The session has ended; sign in again';
const API = '/api/';

/** What the check reads of a FastifyRequest, and writes (`user`, read by @CurrentUser()). */
interface Request {
  headers: { authorization?: string };
  routeOptions: { url?: string; config: unknown };
  user?: AuthUser;
}

/**
 * Every route of the API (under /api/) needs a bearer access token unless it is marked `@Public()`; the
 * probes, the metrics and the docs live outside it and are public. The token must be an HS256 JWT signed
 * with our secret (never `alg: none`, never another algorithm; JwtModule's verifyOptions), unexpired, with
 * our issuer and audience, naming a user and a session that is still active, so revocation is immediate
 * on every replica.
 *
 * The decision is made once, by `authenticate`, a Fastify onRequest hook (app.factory.ts): after routing,
 * before the body is read, so a request without a valid token is a 401 whatever its body, and an ended
 * session is a 401 before any 400 or 404. As Nest's global guard it only confirms the hook ran.
 */
@Injectable()
export class JwtAuthGuard implements CanActivate {
  constructor(
    private readonly jwt: JwtService,
    private readonly sessions: SessionsService,
  ) {}

  async authenticate(request: Request): Promise<void> {
    if (!requiresToken(request)) return;
    const user = this.verify(request.headers.authorization);
    if (!(await this.sessions.isActive(user.sessionId, user.id))) throw new UnauthorizedException(SESSION_ENDED);
    request.user = user;
  }

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<Request>();
    if (requiresToken(request) && request.user === undefined) {
      throw new UnauthorizedException('A bearer access token is required');
    }
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

/** An unknown route (routeOptions.url unset) is nobody's: it gets its 404 or 405 without a token. */
function requiresToken({ routeOptions }: Request): boolean {
  const url = routeOptions.url;
  return url !== undefined && url.startsWith(API) && (routeOptions.config as PublicRouteConfig).public !== true;
}
