import { ConfigError, validateEnv } from './env.validation';
import { loadConfig } from './configuration';
import { parseTrustProxy } from './trust-proxy';

const PRODUCTION = {
  NODE_ENV: 'production',
  DATABASE_URL: 'postgresql://tasks:pw@db.example.com/tasks',
  JWT_SECRET: 'a-secret-that-is-at-least-32-characters-long',
};

describe('TRUST_PROXY', () => {
  it.each([
    ['false', false],
    ['FALSE', false],
    ['0', false],
    ['true', true],
    ['1', 1],
    ['2', 2],
    ['10.0.0.0/8', ['10.0.0.0/8']],
    [' 10.0.0.0/8 , 192.168.1.7,fd00::/8 ', ['10.0.0.0/8', '192.168.1.7', 'fd00::/8']],
  ])('reads %j as %j', (value, expected) => {
    expect(parseTrustProxy(value)).toEqual(expected);
  });

  it('reaches the http namespace as a number for a hop count, a list for ranges, false when unset', () => {
    expect(loadConfig({ TRUST_PROXY: '1' }).http.trustProxy).toBe(1);
    expect(loadConfig({ TRUST_PROXY: '10.0.0.0/8,172.16.0.0/12' }).http.trustProxy).toEqual([
      '10.0.0.0/8',
      '172.16.0.0/12',
    ]);
    expect(loadConfig({}).http.trustProxy).toBe(false);
    expect(loadConfig({ TRUST_PROXY: '' }).http.trustProxy).toBe(false);
  });

  it.each([
    '10.0.0.0/33',
    '10.0.0.0/8,',
    'loopback',
    '10.0.0',
    '300.1.1.1',
    'fd00::/129',
    '10.0.0.0/8/1',
    '-1',
    'fe80::1%eth0',
  ])('stops start-up on %j with one message naming TRUST_PROXY and the entry', (value) => {
    const start = () => validateEnv({ TRUST_PROXY: value });
    expect(start).toThrow(ConfigError);
    expect(start).toThrow(/^TRUST_PROXY must be false, a hop count or a comma-separated list of addresses\/CIDRs/);
  });

  it('refuses true in production, naming TRUST_PROXY, and allows it elsewhere', () => {
    expect(() => validateEnv({ ...PRODUCTION, TRUST_PROXY: 'true' })).toThrow(
      /^TRUST_PROXY=true believes X-Forwarded-For from any sender.*refused in production/,
    );
    expect(validateEnv({ ...PRODUCTION, TRUST_PROXY: '10.0.0.0/8' }).TRUST_PROXY).toBe('10.0.0.0/8');
    expect(validateEnv({ NODE_ENV: 'development', TRUST_PROXY: 'true' }).TRUST_PROXY).toBe('true');
  });
});
