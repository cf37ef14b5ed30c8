import { createHash } from 'node:crypto';
import { decodeRefreshToken, encodeRefreshToken, hashSecret, newRefreshToken } from './refresh-token';

const SESSION = '0193d6c2-7d4e-7c1a-9f1e-3c2b1a0f9e8d';

describe('refresh tokens', () => {
  it('carry the session id and 256 random bits', () => {
    const a = newRefreshToken(SESSION);
    const b = newRefreshToken(SESSION);
    expect(a.sessionId).toBe(SESSION);
    expect(a.secret).toHaveLength(32);
    expect(a.secret.equals(b.secret)).toBe(false);
  });

  it('encode as <session id>.<43 base64url characters> and decode back', () => {
    const token = newRefreshToken(SESSION);
    const text = encodeRefreshToken(token);
    expect(text).toMatch(new RegExp(`^${SESSION}\\.[A-Za-z0-9_-]{43}$`));
    const decoded = decodeRefreshToken(text);
    expect(decoded?.sessionId).toBe(SESSION);
    expect(decoded?.secret.equals(token.secret)).toBe(true);
  });

  describe('decoding refuses', () => {
    const good = encodeRefreshToken(newRefreshToken(SESSION));
    const secretPart = good.split('.')[1];

    it.each([
      ['an empty string', ''],
      ['a session id alone', SESSION],
      ['no session id', `.${secretPart}`],
      ['a session id that is not a UUID', `not-a-uuid.${secretPart}`],
      ['an upper-case session id', `${SESSION.toUpperCase()}.${secretPart}`],
      ['a short secret', `${SESSION}.${secretPart.slice(1)}`],
      ['a long secret', `${SESSION}.${secretPart}A`],
      ['a secret with non-base64url characters', `${SESSION}.${secretPart.slice(1)}+`],
      ['surrounding whitespace', ` ${good} `],
      ['an extra segment', `${good}.x`],
      ['a JWT', 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl'],
    ])('%s', (_what, value) => {
      expect(decodeRefreshToken(value)).toBeUndefined();
    });
  });

  it('are stored as the SHA-256 of the secret part only', () => {
    const token = newRefreshToken(SESSION);
    const hash = hashSecret(token.secret);
    expect(hash).toHaveLength(32);
    expect(hash.equals(createHash('sha256').update(token.secret).digest())).toBe(true);
    expect(hash.equals(hashSecret(token.secret))).toBe(true);
    expect(hash.equals(hashSecret(newRefreshToken(SESSION).secret))).toBe(false);
  });
});
