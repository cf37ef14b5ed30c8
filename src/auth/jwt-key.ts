import { createSecretKey, type KeyObject } from 'node:crypto';

/**
 * The HS256 key as a KeyObject. Given a string, jsonwebtoken first tries to parse it as a PEM key
 * (`createPublicKey` to verify, `createPrivateKey` to sign) and only falls back to a secret key when
 * that throws; with OpenSSL 3 the failed parse costs more than everything else a request does. A
 * KeyObject skips it: the same bytes, the same HS256, the same accepted algorithms.
 */
export function jwtKey(secret: string): KeyObject {
  return createSecretKey(Buffer.from(secret, 'utf8'));
}
