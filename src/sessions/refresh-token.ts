import { createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';

const FORMAT =
  /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.(0|[1-9][0-9]{0,9})\.([A-Za-z0-9_-]{43})$/;
/** Generations are stored as PostgreSQL `integer`. */
export const MAX_GENERATION = 2_147_483_647;
// HKDF's "info": keys for refresh tokens are never the JWT signing key, nor any other key from the same secret.
const KEY_LABEL = 'tasks-api refresh-token mac v1';

/**
 * A refresh token is `<session id>.<generation>.<MAC, base64url>`, the MAC an HMAC-SHA256 of the session id
 * and generation under the session's own key. The server stores only the current generation and the key's
 * nonce: every token it ever issued for a session can be recognised (an older generation means theft), a
 * made-up one cannot pass, and a database leak alone mints nothing, since the key also needs the secret.
 */
export interface RefreshToken {
  sessionId: string;
  generation: number;
  mac: Buffer;
}

/** The random per-session part of the MAC key, stored with the session. */
export function newKeyNonce(): Buffer {
  return randomBytes(16);
}

/** The session's MAC key: HKDF-SHA256 of the server secret, salted with the session's nonce. */
export function refreshTokenKey(serverSecret: string, nonce: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', serverSecret, nonce, KEY_LABEL, 32));
}

export function signRefreshToken(key: Buffer, sessionId: string, generation: number): RefreshToken {
  return { sessionId, generation, mac: mac(key, sessionId, generation) };
}

/** Whether the server issued this token, in constant time. */
export function verifyRefreshToken(key: Buffer, token: RefreshToken): boolean {
  return timingSafeEqual(token.mac, mac(key, token.sessionId, token.generation));
}

export function encodeRefreshToken(token: RefreshToken): string {
  return `${token.sessionId}.${token.generation}.${token.mac.toString('base64url')}`;
}

/** The parts of a well-formed token, or undefined; says nothing about whether it was issued. */
export function decodeRefreshToken(value: string): RefreshToken | undefined {
  const match = FORMAT.exec(value);
  if (!match) return undefined;
  const generation = Number(match[2]);
  const digest = Buffer.from(match[3], 'base64url');
  // 43 characters carry 258 bits: only the encoding of exactly 32 bytes is accepted.
  if (generation > MAX_GENERATION || digest.toString('base64url') !== match[3]) return undefined;
  return { sessionId: match[1], generation, mac: digest };
}

function mac(key: Buffer, sessionId: string, generation: number): Buffer {
  return createHmac('sha256', key).update(`${sessionId}.${generation}`).digest();
}
