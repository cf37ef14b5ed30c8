import { trustProxyOption } from './trust-proxy';

type Trust = (address: string, hop: number) => boolean;

describe('trustProxyOption', () => {
  it('passes false and true through', () => {
    expect(trustProxyOption(false)).toBe(false);
    expect(trustProxyOption(true)).toBe(true);
  });

  it('turns a hop count into a function that trusts that many hops, whatever their address', () => {
    const trust = trustProxyOption(2) as Trust;
    expect([0, 1, 2].map((hop) => trust('203.0.113.9', hop))).toEqual([true, true, false]);
  });

  it('trusts a sender inside the ranges only, IPv4-mapped and IPv6 included, and never a non-address', () => {
    const trust = trustProxyOption(['10.0.0.0/8', '127.0.0.2', 'fd00::/8']) as Trust;
    const trusted = ['10.244.3.17', '::ffff:10.1.2.3', '127.0.0.2', 'fd00::1'];
    const refused = ['11.0.0.1', '127.0.0.1', '203.0.113.9', 'fe80::1', 'not-an-address', ''];
    expect(trusted.map((address) => trust(address, 0))).toEqual(trusted.map(() => true));
    expect(refused.map((address) => trust(address, 0))).toEqual(refused.map(() => false));
  });
});
