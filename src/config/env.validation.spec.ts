import { loadConfig } from './configuration';
import { ConfigError, validateEnv } from './env.validation';

const SECRET = 'a-secret-that-is-at-least-32-characters-long';
const URL = 'postgresql://tasks:pw@db.example.com/tasks';

function errorOf(raw: Record<string, string | undefined>): ConfigError {
  try {
    validateEnv(raw);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error(`validateEnv accepted ${JSON.stringify(raw)}`);
}

describe('validateEnv', () => {
  describe('defaults', () => {
    it('fills in every variable for an empty environment', () => {
      const env = validateEnv({});
      expect(env).toEqual(
        expect.objectContaining({
          NODE_ENV: 'development',
          PORT: 3000,
          HOST: '0.0.0.0',
          LOG_LEVEL: 'info',
          TRUST_PROXY: 'false',
          SHUTDOWN_DRAIN_MS: 0,
          HTTP_REQUEST_TIMEOUT_MS: 30_000,
          HTTP_HEADERS_TIMEOUT_MS: 10_000,
          HTTP_KEEP_ALIVE_TIMEOUT_MS: 72_000,
          HTTP_CONNECTION_TIMEOUT_MS: 60_000,
          DATABASE_POOLER: 'auto',
          DB_POOL_MAX: 10,
          DB_POOL_MAX_WAITING: 50,
          DB_IDLE_TIMEOUT_MS: 10_000,
          DB_CONNECT_TIMEOUT_MS: 5_000,
          DB_MAX_LIFETIME_S: 1_800,
          DB_STATEMENT_TIMEOUT_MS: 10_000,
          DB_IDLE_IN_TRANSACTION_TIMEOUT_MS: 10_000,
          DB_KEEPALIVE: true,
          DB_APPLICATION_NAME: 'tasks-api',
          EMBEDDED_PG_PORT: 0,
          EMBEDDED_PG_DATA_DIR: '.data/postgres',
          HEALTH_DB_TIMEOUT_MS: 1_000,
          HEALTH_DB_CACHE_TTL_MS: 0,
          JWT_ACCESS_TTL_S: 900,
          REFRESH_TOKEN_TTL_S: 2_592_000,
          THROTTLE_LOGIN_PER_IP: '20/60',
          HSTS_MAX_AGE_S: 0,
          DOCS_ENABLED: true,
        }),
      );
      expect(env.DATABASE_URL).toBeUndefined();
      expect(env.JWT_SECRET).toBeUndefined();
    });

    it('treats empty strings as unset, as container platforms pass optional variables', () => {
      const env = validateEnv({ PORT: '', DATABASE_URL: '', JWT_SECRET: '', DB_KEEPALIVE: '' });
      expect(env.PORT).toBe(3000);
      expect(env.DATABASE_URL).toBeUndefined();
      expect(env.JWT_SECRET).toBeUndefined();
      expect(env.DB_KEEPALIVE).toBe(true);
    });

    it('ignores variables it does not know', () => {
      expect(() => validateEnv({ HOME: '/root', SOMETHING_ELSE: 'x' })).not.toThrow();
    });
  });

  describe('coercion', () => {
    it('turns integer strings into numbers', () => {
      const env = validateEnv({ PORT: '8080', DB_POOL_MAX: '25', DB_CONNECT_TIMEOUT_MS: '2000' });
      expect(env.PORT).toBe(8080);
      expect(env.DB_POOL_MAX).toBe(25);
      expect(env.DB_CONNECT_TIMEOUT_MS).toBe(2000);
    });

    it.each([
      ['true', true],
      ['1', true],
      ['YES', true],
      ['on', true],
      ['false', false],
      ['0', false],
      ['No', false],
      ['off', false],
    ])('reads DB_KEEPALIVE=%s as %s', (value, expected) => {
      expect(validateEnv({ DB_KEEPALIVE: value }).DB_KEEPALIVE).toBe(expected);
    });

    it('accepts postgres:// as well as postgresql://', () => {
      expect(validateEnv({ DATABASE_URL: 'postgres://u:p@h/db' }).DATABASE_URL).toBe('postgres://u:p@h/db');
      expect(validateEnv({ DATABASE_URL: 'postgresql://u:p@h/db' }).DATABASE_URL).toBe('postgresql://u:p@h/db');
    });
  });

  describe('errors name their variable in one line', () => {
    it.each([
      ['NODE_ENV', 'staging'],
      ['PORT', 'abc'],
      ['PORT', '3.5'],
      ['PORT', '70000'],
      ['PORT', '-1'],
      ['LOG_LEVEL', 'verbose'],
      ['SHUTDOWN_DRAIN_MS', '999999'],
      ['HTTP_REQUEST_TIMEOUT_MS', '0'],
      ['HTTP_HEADERS_TIMEOUT_MS', '500'],
      ['HTTP_KEEP_ALIVE_TIMEOUT_MS', '1000000'],
      ['HTTP_CONNECTION_TIMEOUT_MS', 'never'],
      ['DATABASE_URL', 'mysql://x'],
      ['DATABASE_URL', 'not a url'],
      ['DATABASE_URL_UNPOOLED', 'http://db.example.com'],
      ['DATABASE_POOLER', 'pgcat'],
      ['DB_POOL_MAX', '0'],
      ['DB_POOL_MAX', 'ten'],
      ['DB_CONNECT_TIMEOUT_MS', '50'],
      ['DB_KEEPALIVE', 'maybe'],
      ['DB_APPLICATION_NAME', 'x'.repeat(64)],
      ['HEALTH_DB_TIMEOUT_MS', '99'],
      ['JWT_SECRET', 'short'],
      ['JWT_ACCESS_TTL_S', '10'],
      ['ARGON2_MEMORY_KIB', '512'],
      ['THROTTLE_LOGIN_PER_IP', '20 per minute'],
      ['THROTTLE_REFRESH_PER_IP', '60'],
      ['HSTS_MAX_AGE_S', '-1'],
      ['DOCS_ENABLED', 'sometimes'],
      ['METRICS_PORT', '65536'],
      ['METRICS_PORT', '3000'],
    ])('%s=%s', (variable, value) => {
      const error = errorOf({ [variable]: value });
      expect(error.message.startsWith(`${variable} `)).toBe(true);
      expect(error.message).not.toContain('\n');
    });

    it('leaves METRICS_PORT unset (metrics on PORT) unless it is given', () => {
      expect(validateEnv({}).METRICS_PORT).toBeUndefined();
      expect(validateEnv({ PORT: '0', METRICS_PORT: '0' }).METRICS_PORT).toBe(0);
      expect(validateEnv({ METRICS_PORT: '9464' }).METRICS_PORT).toBe(9464);
    });

    it('does not echo the rejected JWT_SECRET', () => {
      expect(errorOf({ JWT_SECRET: 'hunter2-but-short' }).message).not.toContain('hunter2');
    });

    it('accepts a JWT_SECRET of exactly 32 characters', () => {
      expect(validateEnv({ JWT_SECRET: 'x'.repeat(32) }).JWT_SECRET).toHaveLength(32);
    });
  });

  describe('HTTP timeouts', () => {
    it('caps the headers timeout at the request timeout, which covers the headers too', () => {
      const { timeouts } = loadConfig({ HTTP_REQUEST_TIMEOUT_MS: '5000' }).http;
      expect(timeouts).toEqual({ requestMs: 5_000, headersMs: 5_000, keepAliveMs: 72_000, connectionMs: 60_000 });
    });
  });

  describe('production', () => {
    it('requires DATABASE_URL', () => {
      expect(errorOf({ NODE_ENV: 'production', JWT_SECRET: SECRET }).message).toMatch(/^DATABASE_URL is required/);
    });

    it('requires JWT_SECRET', () => {
      expect(errorOf({ NODE_ENV: 'production', DATABASE_URL: URL }).message).toMatch(/^JWT_SECRET is required/);
    });

    it('names DATABASE_URL first when both are missing', () => {
      expect(errorOf({ NODE_ENV: 'production' }).message).toMatch(/^DATABASE_URL /);
    });

    it('refuses a short JWT_SECRET', () => {
      expect(errorOf({ NODE_ENV: 'production', DATABASE_URL: URL, JWT_SECRET: '0123456789' }).message).toMatch(
        /^JWT_SECRET must be at least 32 characters/,
      );
    });

    it('starts with both set', () => {
      const env = validateEnv({ NODE_ENV: 'production', DATABASE_URL: URL, JWT_SECRET: SECRET });
      expect(env).toEqual(expect.objectContaining({ NODE_ENV: 'production', DATABASE_URL: URL, JWT_SECRET: SECRET }));
    });

    it.each(['development', 'test'])('requires neither in %s (embedded database, generated secret)', (mode) => {
      expect(validateEnv({ NODE_ENV: mode }).NODE_ENV).toBe(mode);
    });
  });
});
