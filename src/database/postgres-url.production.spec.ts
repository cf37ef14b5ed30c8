import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ConnectionOptions } from 'node:tls';
import { describeTls, parsePostgresUrl, type PostgresTarget } from './postgres-url';

// How production reads sslmode (config/database.config.ts TlsPolicy); libpq's meaning is in postgres-url.spec.ts.
const BASE = 'postgresql://alice:hunter2@db.example.com:6543/tasks';
const PRODUCTION = { verify: true, insecure: false };
const INSECURE = { verify: true, insecure: true };

const prod = (query: string, policy = PRODUCTION) =>
  parsePostgresUrl(`${BASE}${query ? `?${query}` : ''}`, 'DATABASE_URL', policy);

function tls(target: PostgresTarget): ConnectionOptions {
  expect(target.ssl).not.toBe(false);
  return target.ssl as ConnectionOptions;
}

function modeAndWarning(target: PostgresTarget): [string, string | undefined] {
  return [target.tlsMode, target.tlsWarning];
}

describe('parsePostgresUrl in production', () => {
  let dir: string;
  let caFile: string;
  const withCa = () => `sslrootcert=${encodeURIComponent(caFile)}`;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'postgres-url-spec-'));
    caFile = join(dir, 'ca.pem');
    writeFileSync(caFile, '-----BEGIN CERTIFICATE-----\nnot really\n-----END CERTIFICATE-----\n');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each(['', 'sslmode=prefer', 'sslmode=require', 'sslmode=verify-full'])(
    '"%s" verifies the chain against the system CAs and the host name',
    (query) => {
      const target = prod(query);
      expect(target.ssl).toEqual({});
      expect(target.tlsMode).toBe('verify-full');
      expect(target.tlsWarning).toBeUndefined();
      expect(target.enableChannelBinding).toBe(true);
    },
  );

  it.each(['', 'sslmode=require'])('"%s" with sslrootcert verifies the host name against that CA', (query) => {
    const options = tls(prod([query, withCa()].filter(Boolean).join('&')));
    expect(String(options.ca)).toContain('not really');
    expect(options.rejectUnauthorized).not.toBe(false);
    expect(options.checkServerIdentity).toBeUndefined();
  });

  it('verify-ca keeps its meaning (chain only)', () => {
    const target = prod(`sslmode=verify-ca&${withCa()}`);
    expect(target.tlsMode).toBe('verify-ca');
    expect(target.tlsWarning).toBeUndefined();
  });

  it('sslrootcert=system stays verify-full', () => {
    expect(prod('sslrootcert=system')).toEqual(expect.objectContaining({ ssl: {}, tlsMode: 'verify-full' }));
  });

  it.each(['disable', 'allow'])('an explicit sslmode=%s is honoured, with a warning', (mode) => {
    const target = prod(`sslmode=${mode}`);
    expect(target.ssl).toBe(false);
    expect(target.tlsMode).toBe('off');
    expect(target.tlsWarning).toBe(`DATABASE_URL sets sslmode=${mode}: the database connection is not encrypted`);
  });

  it('channel_binding=require still needs TLS', () => {
    expect(() => prod('sslmode=disable&channel_binding=require')).toThrow(/channel_binding=require, which needs TLS/);
    expect(prod('channel_binding=require')).toEqual(
      expect.objectContaining({ tlsMode: 'verify-full', requireChannelBinding: true }),
    );
  });

  it.each(['', 'sslmode=prefer', 'sslmode=require'])(
    'DATABASE_TLS_INSECURE: "%s" encrypts without a certificate check, with a warning',
    (query) => {
      const target = prod(query, INSECURE);
      expect(tls(target).rejectUnauthorized).toBe(false);
      expect(target.tlsMode).toBe('unverified');
      expect(target.tlsWarning).toMatch(/^DATABASE_TLS_INSECURE=true: the certificate of the DATABASE_URL server/);
    },
  );

  it('DATABASE_TLS_INSECURE leaves verify-full, verify-ca and disable as the URL says', () => {
    expect(tls(prod('sslmode=verify-full', INSECURE)).rejectUnauthorized).not.toBe(false);
    expect(modeAndWarning(prod('sslmode=verify-full', INSECURE))).toEqual(['verify-full', undefined]);
    expect(modeAndWarning(prod(`sslmode=verify-ca&${withCa()}`, INSECURE))).toEqual(['verify-ca', undefined]);
    expect(prod('sslmode=disable', INSECURE).tlsMode).toBe('off');
  });

  it('outside production the same URLs keep libpq’s meaning, without warnings', () => {
    const dev = (query: string) =>
      parsePostgresUrl(`${BASE}?${query}`, 'DATABASE_URL', { verify: false, insecure: true });
    expect(parsePostgresUrl(BASE).tlsMode).toBe('off');
    expect(modeAndWarning(dev('sslmode=require'))).toEqual(['unverified', undefined]);
    expect(modeAndWarning(dev('sslmode=prefer'))).toEqual(['unverified', undefined]);
    expect(modeAndWarning(dev('sslmode=disable'))).toEqual(['off', undefined]);
  });
});

describe('describeTls', () => {
  it.each([
    ['verify-full', 'TLS verify-full'],
    ['verify-ca', 'TLS verify-ca'],
    ['unverified', 'TLS without certificate check'],
    ['off', 'no TLS'],
  ] as const)('%s → %s', (mode, text) => {
    expect(describeTls(mode)).toBe(text);
  });
});
