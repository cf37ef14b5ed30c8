/** Who is calling: set on the request by the JWT strategy once the token and its session check out. */
export interface AuthUser {
  id: string;
  sessionId: string;
}
