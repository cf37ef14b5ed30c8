/** Who is calling: set on the request by the JWT strategy once the token and its session check out. */
export interface AuthUser {
  id: string;
  sessionId: string;
  /**
   * Set while the session is not yet checked, on routes whose own statement checks it
   * (see SessionCheckedByQuery); `confirmSession` clears it.
   */
  sessionPending?: boolean;
}
