/**
 * The condition on `sessions s` under which an access token's session still stands: not revoked, not
 * expired, its user not deleted (the cascade removed it). SessionsService.isActive checks it on its own;
 * the hot task reads fold it into their statement (src/tasks/task-statements.ts).
 */
export const activeSession = (sessionId: string, userId: string): string =>
  `s.id = ${sessionId} AND s.user_id = ${userId} AND s.revoked_at IS NULL AND s.expires_at > now()`;
