import { createHmac } from 'node:crypto';
import {
  decodeRefreshToken,
  encodeRefreshToken,
  MAX_GENERATION,
  newKeyNonce,
  refreshTokenKey,
  signRefreshToken,
  verifyRefreshToken,
} from './refresh-token';

const SESSION = '0193d6c2-7d4e-7c1a-9f1e-3c2b1a0f9e8d';
const SECRET = 'a-server-secret-that-is-long-enough-0123456789';

describe('refresh tokens', () => {
  const nonce = newKeyNonce();
  const key = refreshTokenKey(SECRET, nonce);

  it('encode as <session id>.<generation>.<43 base64url characters> and decode back', () => {
    const token = signRefreshToken(key, SESSION, 41);
    const text = encodeRefreshToken(token);
    expect(text).toMatch(new RegExp(`^${SESSION}\\.41\\.[A-Za-z0-9_-]{43}$`));
    expect(decodeRefreshToken(text)).toEqual(token);
  });

  it('carry an HMAC-SHA256 of the session id and generation under the session key', () => {
    const token = signRefreshToken(key, SESSION, 7);
    expect(token.mac.equals(createHmac('sha256', key).update(`${SESSION}.7`).digest())).toBe(true);
  });

  it('verify only under the key they were signed with, for the session and generation they name', () => {
    const token = signRefreshToken(key, SESSION, 3);
    expect(verifyRefreshToken(key, token)).toBe(true);
    expect(verifyRefreshToken(key, { ...token, generation: 4 })).toBe(false);
    expect(verifyRefreshToken(key, { ...token, sessionId: SESSION.replace(/d$/, 'e') })).toBe(false);
    expect(verifyRefreshToken(refreshTokenKey(SECRET, newKeyNonce()), token)).toBe(false);
    expect(verifyRefreshToken(refreshTokenKey(`${SECRET}x`, nonce), token)).toBe(false);
    expect(verifyRefreshToken(key, { ...token, mac: Buffer.alloc(32) })).toBe(false);
  });

  it('derive a different key per nonce and per secret, never the secret itself', () => {
    expect(refreshTokenKey(SECRET, nonce)).toEqual(key);
    expect(key).toHaveLength(32);
    expect(refreshTokenKey(SECRET, newKeyNonce()).equals(key)).toBe(false);
    expect(refreshTokenKey(`${SECRET}x`, nonce).equals(key)).toBe(false);
    expect(key.toString('utf8')).not.toContain(SECRET.slice(0, 8));
    expect(newKeyNonce()).toHaveLength(16);
    expect(newKeyNonce().equals(newKeyNonce())).toBe(false);
  });

  it('accept the largest generation PostgreSQL stores', () => {
    const token = signRefreshToken(key, SESSION, MAX_GENERATION);
    expect(decodeRefreshToken(encodeRefreshToken(token))).toEqual(token);
  });

  describe('decoding refuses', () => {
    const good = encodeRefreshToken(signRefreshToken(key, SESSION, 12));
    const macPart = good.split('.')[2];
    // The 43rd character carries 2 unused bits: 'B' decodes to the same bytes as 'A' but is not the token.
    const lastZero = `${macPart.slice(0, 42)}A`;

    it.each([
      ['an empty string', ''],
      ['a session id alone', SESSION],
      ['the session id and generation only', `${SESSION}.12`],
      ['the previous format, <session id>.<secret>', `${SESSION}.${macPart}`],
      ['no session id', `.12.${macPart}`],
      ['a session id that is not a UUID', `not-a-uuid.12.${macPart}`],
      ['an upper-case session id', `${SESSION.toUpperCase()}.12.${macPart}`],
      ['an empty generation', `${SESSION}..${macPart}`],
      ['a negative generation', `${SESSION}.-1.${macPart}`],
      ['a generation with a leading zero', `${SESSION}.012.${macPart}`],
      ['a generation with a sign', `${SESSION}.+12.${macPart}`],
      ['a fractional generation', `${SESSION}.1.5.${macPart}`],
      ['a generation past an integer column', `${SESSION}.${MAX_GENERATION + 1}.${macPart}`],
      ['an 11-digit generation', `${SESSION}.10000000000.${macPart}`],
      ['a short MAC', `${SESSION}.12.${macPart.slice(1)}`],
      ['a long MAC', `${SESSION}.12.${macPart}A`],
      ['a MAC with non-base64url characters', `${SESSION}.12.${macPart.slice(1)}+`],
      ['a MAC in a non-canonical encoding', `${SESSION}.12.${lastZero.slice(0, 42)}B`],
      ['surrounding whitespace', ` ${good} `],
      ['an extra segment', `${good}.x`],
      ['a JWT', 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl'],
    ])('%s', (_what, value) => {
      expect(decodeRefreshToken(value)).toBeUndefined();
    });

    it('but accepts the canonical form of the same MAC', () => {
      expect(decodeRefreshToken(`${SESSION}.12.${lastZero}`)).toBeDefined();
    });
  });
});
