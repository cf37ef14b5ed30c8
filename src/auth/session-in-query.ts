import { Logger, SetMetadata, UnauthorizedException } from '@nestjs/common';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { classifyDatabaseError } from '../database/database-errors';
import type { DatabaseProbe } from '../database/database.probe';
import { DATABASE_PROBLEMS, INTERNAL_ERROR, type Problem } from '../http/problem-details.filter';
import { problemBody, PROBLEM_CONTENT_TYPE } from '../http/problem-details';
import type { SessionsService } from '../sessions/sessions.service';
import type { AuthUser } from './auth-user';

export const SESSION_IN_QUERY = 'auth:session-in-query';
export const SESSION_ENDED = 'The session has ended; sign in again';

/**
 * The route's own statement checks the caller's session, so a request costs one round trip to the
 * database instead of two. The guard then verifies the token alone and leaves `user.sessionPending`
 * set; the route's statement is gated by the check (see withSessionCheck in task-statements.ts) and the
 * route passes what it returned through `confirmSession`. Revocation stays immediate, and
 * registerPendingSessionCheck keeps every answer as if the guard had checked.
 */
export const SessionCheckedByQuery = () => SetMetadata(SESSION_IN_QUERY, true);

/** What a statement gated by the caller's session found: `active` false means the session has ended. */
export interface SessionRead<T> {
  active: boolean;
  result: T;
}

/** The result of a gated statement, or the guard's 401 when the session has ended. */
export function confirmSession<T>(user: AuthUser, { active, result }: SessionRead<T>): T {
  user.sessionPending = false;
  if (!active) throw new UnauthorizedException(SESSION_ENDED);
  return result;
}

/**
 * A request whose session is still unconfirmed when its answer is about to leave (validation, a bad
 * cursor or If-Match failed before the route's statement ran; or a route forgot to confirm) has the
 * session checked then: an ended session gets the 401 the guard would have given, never a 400, a 404
 * or data. A 5xx is left alone: a database that is failing must not be waited on a second time.
 */
export function registerPendingSessionCheck(
  fastify: FastifyInstance,
  sessions: SessionsService,
  database: DatabaseProbe,
): void {
  const logger = new Logger('HTTP');
  fastify.addHook('onSend', (request, reply, payload, done) => {
    const user = (request as FastifyRequest & { user?: AuthUser }).user;
    if (!user?.sessionPending || reply.statusCode >= 500) return done(null, payload);
    user.sessionPending = false;
    sessions.isActive(user.sessionId, user.id).then(
      (active) => done(null, active ? payload : replace(request, reply, { status: 401, detail: SESSION_ENDED })),
      (error: unknown) => {
        // As the problem filter answers a failed statement: 503 + Retry-After for the database, else 500.
        const failure = classifyDatabaseError(error);
        if (failure && failure !== 'saturated') database.invalidate();
        if (!failure) {
          const { name, message } = error instanceof Error ? error : { name: 'Error', message: String(error) };
          logger.error({ requestId: request.id, err: { type: name, message } }, 'session check failed');
        }
        done(null, replace(request, reply, failure ? DATABASE_PROBLEMS[failure] : INTERNAL_ERROR));
      },
    );
  });
}

/** Turns the answer being sent into a problem: the route's own headers about the resource go. */
function replace(request: FastifyRequest, reply: FastifyReply, problem: Problem): string {
  for (const header of ['etag', 'location', 'idempotent-replayed']) reply.removeHeader(header);
  reply.code(problem.status).headers({ ...problem.headers, 'content-type': PROBLEM_CONTENT_TYPE });
  if (problem.status === 401) reply.header('www-authenticate', 'Bearer');
  return JSON.stringify(problemBody(request, problem.status, problem.detail));
}
