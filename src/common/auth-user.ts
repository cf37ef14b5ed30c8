/** Who is calling: set on the request by JwtAuthGuard once the access token and its session check out. */
export interface AuthUser {
  id: string;
  sessionId: string;
}
