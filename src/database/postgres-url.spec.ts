import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ConnectionOptions, PeerCertificate } from 'node:tls';
import { ConfigError } from '../config/env.validation';
import {
  assertNoStartupParameters,
  describeTarget,
  isPoolerHost,
  parsePostgresUrl,
  type PostgresTarget,
} from './postgres-url';

const PASSWORD = 'hunter2-do-not-print';
const BASE = `postgresql://alice:${PASSWORD}@db.example.com:6543/tasks`;

function tls(target: PostgresTarget): ConnectionOptions {
  expect(target.ssl).not.toBe(false);
  return target.ssl as ConnectionOptions;
}

function configError(work: () => unknown): ConfigError {
  try {
    work();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).not.toContain(PASSWORD);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('parsePostgresUrl', () => {
  let dir: string;
  let caFile: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'postgres-url-spec-'));
    caFile = join(dir, 'ca.pem');
    writeFileSync(caFile, '-----BEGIN CERTIFICATE-----\nnot really\n-----END CERTIFICATE-----\n');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each(['postgres', 'postgresql'])('reads a %s:// URL', (scheme) => {
    const target = parsePostgresUrl(`${scheme}://alice:${PASSWORD}@db.example.com:6543/tasks`);
    expect(target).toEqual({
      host: 'db.example.com',
      port: 6543,
      user: 'alice',
      password: PASSWORD,
      database: 'tasks',
      ssl: false,
      tlsMode: 'off',
      enableChannelBinding: false,
      requireChannelBinding: false,
      startupParameters: {},
    });
  });

  it('defaults the port to 5432 and the database to the user name', () => {
    const target = parsePostgresUrl('postgres://alice@db.example.com');
    expect(target).toEqual(expect.objectContaining({ port: 5432, database: 'alice', password: undefined }));
  });

  it('decodes percent-encoded credentials', () => {
    const target = parsePostgresUrl('postgres://al%40ice:p%2Fw%3Ad@db.example.com/tasks');
    expect(target.user).toBe('al@ice');
    expect(target.password).toBe('p/w:d');
  });

  describe('sslmode', () => {
    it('disable: plain text, no channel binding', () => {
      const target = parsePostgresUrl(`${BASE}?sslmode=disable`);
      expect(target.ssl).toBe(false);
      expect(target.enableChannelBinding).toBe(false);
    });

    it('require: encrypts without verifying the certificate', () => {
      const target = parsePostgresUrl(`${BASE}?sslmode=require`);
      expect(tls(target).rejectUnauthorized).toBe(false);
      expect(target.enableChannelBinding).toBe(true);
    });

    it('prefer: encrypts without verifying (node-postgres cannot fall back to plain text)', () => {
      expect(tls(parsePostgresUrl(`${BASE}?sslmode=prefer`)).rejectUnauthorized).toBe(false);
    });

    it('verify-ca: verifies the chain against the given CA but not the host name', () => {
      const options = tls(parsePostgresUrl(`${BASE}?sslmode=verify-ca&sslrootcert=${encodeURIComponent(caFile)}`));
      expect(options.rejectUnauthorized).not.toBe(false);
      expect(String(options.ca)).toContain('not really');
      expect(options.checkServerIdentity).toEqual(expect.any(Function));
      expect(options.checkServerIdentity!('some.other.host', {} as PeerCertificate)).toBeUndefined();
    });

    it('verify-ca without sslrootcert is refused', () => {
      expect(configError(() => parsePostgresUrl(`${BASE}?sslmode=verify-ca`)).message).toMatch(
        /^DATABASE_URL .*sslrootcert/,
      );
    });

    it('verify-full: verifies the chain and the host name', () => {
      const options = tls(parsePostgresUrl(`${BASE}?sslmode=verify-full`));
      expect(options.rejectUnauthorized).not.toBe(false);
      expect(options.checkServerIdentity).toBeUndefined();
    });

    it('verify-full with sslrootcert uses that CA', () => {
      const options = tls(parsePostgresUrl(`${BASE}?sslmode=verify-full&sslrootcert=${encodeURIComponent(caFile)}`));
      expect(String(options.ca)).toContain('not really');
      expect(options.checkServerIdentity).toBeUndefined();
    });

    it('sslrootcert=system verifies fully against the system CAs', () => {
      const options = tls(parsePostgresUrl(`${BASE}?sslrootcert=system`));
      expect(options.rejectUnauthorized).not.toBe(false);
      expect(options.ca).toBeUndefined();
      expect(options.checkServerIdentity).toBeUndefined();
    });

    it('sslrootcert=system with a weaker sslmode is refused', () => {
      expect(configError(() => parsePostgresUrl(`${BASE}?sslmode=require&sslrootcert=system`)).message).toMatch(
        /^DATABASE_URL uses sslrootcert=system/,
      );
    });

    it('an unreadable sslrootcert file is refused, naming the variable', () => {
      const error = configError(() =>
        parsePostgresUrl(`${BASE}?sslmode=verify-full&sslrootcert=${encodeURIComponent(join(dir, 'missing.pem'))}`),
      );
      expect(error.message).toMatch(/^DATABASE_URL names a certificate file that cannot be read/);
    });

    it('an unknown sslmode is refused', () => {
      expect(configError(() => parsePostgresUrl(`${BASE}?sslmode=bogus`)).message).toMatch(
        /^DATABASE_URL has an invalid sslmode/,
      );
    });
  });

  describe('channel_binding', () => {
    it('require switches on enableChannelBinding', () => {
      expect(parsePostgresUrl(`${BASE}?sslmode=require&channel_binding=require`).enableChannelBinding).toBe(true);
    });

    it('require is refused without TLS', () => {
      expect(configError(() => parsePostgresUrl(`${BASE}?sslmode=disable&channel_binding=require`)).message).toMatch(
        /^DATABASE_URL sets channel_binding=require, which needs TLS/,
      );
      expect(() => parsePostgresUrl(`${BASE}?channel_binding=require`)).toThrow(ConfigError);
    });

    it('disable switches it off even over TLS', () => {
      expect(parsePostgresUrl(`${BASE}?sslmode=require&channel_binding=disable`).enableChannelBinding).toBe(false);
    });

    it('an unknown value is refused', () => {
      expect(configError(() => parsePostgresUrl(`${BASE}?sslmode=require&channel_binding=maybe`)).message).toMatch(
        /^DATABASE_URL has an invalid channel_binding/,
      );
    });
  });

  describe('startup parameters', () => {
    it('collects options and timeouts given in the URL', () => {
      const target = parsePostgresUrl(`${BASE}?options=-c%20statement_timeout%3D5s&lock_timeout=1000`);
      expect(target.startupParameters).toEqual({ options: '-c statement_timeout=5s', lock_timeout: '1000' });
    });

    it('ignores other query parameters', () => {
      expect(parsePostgresUrl(`${BASE}?sslmode=require&application_name=x`).startupParameters).toEqual({});
    });
  });

  describe('errors', () => {
    it.each([
      ['not a URL', 'definitely not a url'],
      ['no host', `postgres://alice:${PASSWORD}@/tasks`],
      ['no user', 'postgres://db.example.com/tasks'],
      ['a bad port', `postgres://alice:${PASSWORD}@db.example.com:99999/tasks`],
    ])('%s is a ConfigError that names the variable and never the password', (_what, url) => {
      expect(configError(() => parsePostgresUrl(url, 'DATABASE_URL_UNPOOLED')).message).toMatch(
        /^DATABASE_URL_UNPOOLED /,
      );
    });
  });
});

describe('isPoolerHost', () => {
  it.each([
    ['ep-cool-darkness-123456-pooler.us-east-2.aws.neon.tech', true],
    ['ep-x-pooler.example.com', true],
    ['ep-x-pooler', true],
    ['ep-cool-darkness-123456.us-east-2.aws.neon.tech', false],
    ['my-pooler-db.example.com', false],
    ['pooler.example.com', false],
    ['localhost', false],
    ['127.0.0.1', false],
  ])('%s → %s', (host, expected) => {
    expect(isPoolerHost(host)).toBe(expected);
  });
});

describe('describeTarget', () => {
  it('gives host, port and database, never the user or password', () => {
    const target = parsePostgresUrl(`postgres://secretuser:${PASSWORD}@db.example.com:6543/tasks?sslmode=require`);
    const text = describeTarget(target);
    expect(text).toBe('db.example.com:6543/tasks');
    expect(text).not.toContain('secretuser');
    expect(text).not.toContain(PASSWORD);
  });
});

describe('assertNoStartupParameters', () => {
  const pooled = (query: string) => parsePostgresUrl(`postgres://u:${PASSWORD}@ep-x-pooler.example.com/db?${query}`);

  it('accepts a URL without startup parameters', () => {
    expect(() => assertNoStartupParameters(pooled('sslmode=require'), 'DATABASE_URL')).not.toThrow();
  });

  it('accepts Neon’s endpoint option (SNI workaround), which PgBouncer passes through', () => {
    expect(() => assertNoStartupParameters(pooled('options=endpoint%3Dep-x'), 'DATABASE_URL')).not.toThrow();
  });

  it.each([
    ['options', 'options=-c%20statement_timeout%3D5s'],
    ['statement_timeout', 'statement_timeout=5000'],
    ['idle_in_transaction_session_timeout', 'idle_in_transaction_session_timeout=1000'],
  ])('refuses %s, naming it and the variable', (name, query) => {
    const error = configError(() => assertNoStartupParameters(pooled(query), 'DATABASE_URL'));
    expect(error.message).toMatch(/^DATABASE_URL points at a PgBouncer pooler/);
    expect(error.message).toContain(`startup parameter ${name}`);
  });
});
