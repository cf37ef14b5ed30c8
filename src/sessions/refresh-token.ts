import { createHash, randomBytes } from 'node:crypto';

const FORMAT = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.([A-Za-z0-9_-]{43})$/;

/**
 * A refresh token is `<session id>.<256 random bits, base64url>`. Only the SHA-256 of the random part is
 * stored: it has full entropy, so a fast hash is enough, and a database leak yields no usable token.
 */
export interface RefreshToken {
  sessionId: string;
  secret: Buffer;
}

export function newRefreshToken(sessionId: string): RefreshToken {
  return { sessionId, secret: randomBytes(32) };
}

export function encodeRefreshToken(token: RefreshToken): string {
  return `${token.sessionId}.${token.secret.toString('base64url')}`;
}

export function decodeRefreshToken(value: string): RefreshToken | undefined {
  const match = FORMAT.exec(value);
  if (!match) return undefined;
  const secret = Buffer.from(match[2], 'base64url');
  return secret.length === 32 ? { sessionId: match[1], secret } : undefined;
}

export function hashSecret(secret: Buffer): Buffer {
  return createHash('sha256').update(secret).digest();
}
