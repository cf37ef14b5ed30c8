/** Who is calling: set on the request by JwtAuthGuard once the access token and its session check out. */
export interface AuthUser {
  id: string;
  sessionId: string;
  /** The token's auth_time: when its session last proved the password (epoch seconds); absent in older tokens. */
  authTime?: number;
}
