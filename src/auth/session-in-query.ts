import {
  type CallHandler,
  type ExecutionContext,
  HttpException,
  Injectable,
  type NestInterceptor,
  SetMetadata,
  UnauthorizedException,
} from '@nestjs/common';
import { catchError, from, mergeMap, type Observable, throwError } from 'rxjs';
import { SessionsService } from '../sessions/sessions.service';
import type { AuthUser } from './auth-user';

export const SESSION_IN_QUERY = 'auth:session-in-query';
export const SESSION_ENDED = 'The session has ended; sign in again';

/**
 * The route's own statement checks the caller's session, so a request costs one round trip to the
 * database instead of two. The guard then verifies the token alone and leaves `user.sessionPending`
 * set; the route passes the flag its statement returned to `confirmSession`. Revocation stays
 * immediate, and `PendingSessionInterceptor` keeps the answers as if the guard had checked.
 */
export const SessionCheckedByQuery = () => SetMetadata(SESSION_IN_QUERY, true);

/** Requests whose session check the guard left to the route (see SessionCheckedByQuery). */
const deferred = new WeakSet<object>();
export const deferSessionCheck = (request: object): void => void deferred.add(request);
export const isSessionCheckDeferred = (request: object): boolean => deferred.has(request);

/** Takes the `sessionActive` flag of a folded statement: 401 when the session has ended. */
export function confirmSession(user: AuthUser, active: boolean): void {
  user.sessionPending = false;
  if (!active) throw new UnauthorizedException(SESSION_ENDED);
}

/**
 * For a request whose session is still unconfirmed when it ends with a 4xx (validation or a bad cursor
 * failed before the route's statement ran) or with data (a route forgot to confirm), checks the session
 * then: an ended session gets the 401 the guard would have given, never a 400, a 404 or data.
 */
@Injectable()
export class PendingSessionInterceptor implements NestInterceptor {
  constructor(private readonly sessions: SessionsService) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const user = context.switchToHttp().getRequest<{ user?: AuthUser }>().user;
    if (!user?.sessionPending) return next.handle();
    const settle = async () => {
      if (!user.sessionPending) return;
      confirmSession(user, await this.sessions.isActive(user.sessionId, user.id));
    };
    return next.handle().pipe(
      mergeMap(async (value: unknown) => {
        await settle();
        return value;
      }),
      // Only a 4xx could tell an ended session something; a database failure (503) must not wait for a
      // second statement on a database that is not answering.
      catchError((error: unknown) =>
        isClientError(error) ? from(settle()).pipe(mergeMap(() => throwError(() => error))) : throwError(() => error),
      ),
    );
  }
}

const isClientError = (error: unknown): boolean => error instanceof HttpException && error.getStatus() < 500;
