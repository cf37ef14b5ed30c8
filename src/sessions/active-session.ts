/**
 * Whether an access token's session still stands: not revoked, not expired, its user not deleted (the
 * cascade removed it). JwtAuthGuard runs it on every authenticated request (SessionsService.isActive),
 * and the bench's baseline runs the same text.
 */
export const ACTIVE_SESSION_CHECK =
  'SELECT 1 FROM sessions s WHERE s.id = $1 AND s.user_id = $2 AND s.revoked_at IS NULL AND s.expires_at > now()';
