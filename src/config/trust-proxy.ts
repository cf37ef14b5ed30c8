import { BlockList, isIP } from 'node:net';

/**
 * Whom to believe about the client address in `X-Forwarded-For`: nobody (`false`), any sender (`true`), the
 * last `n` hops whoever sent them (a number), or senders whose address is in these ranges (addresses/CIDRs).
 */
export type TrustProxy = boolean | number | string[];

const SHAPE = 'false, a hop count or a comma-separated list of addresses/CIDRs';

/** Reads TRUST_PROXY; a malformed value throws an Error whose message names the variable and the entry. */
export function parseTrustProxy(value: string): TrustProxy {
  const text = value.trim().toLowerCase();
  if (text === 'false' || text === '') return false;
  if (text === 'true') return true;
  if (/^\d+$/.test(text)) return Number(text) || false;
  const entries = text.split(',').map((entry) => entry.trim());
  for (const entry of entries) addressRanges([entry]);
  return entries;
}

/** The ranges as one set, for the trust check; throws on an entry that is not an address or a CIDR. */
export function addressRanges(entries: string[]): BlockList {
  const ranges = new BlockList();
  for (const entry of entries) {
    const [address, prefix, extra] = entry.split('/');
    const family = isIP(address);
    const bits = prefix === undefined ? undefined : Number(prefix);
    const valid =
      family !== 0 &&
      !address.includes('%') &&
      extra === undefined &&
      (bits === undefined || (/^\d{1,3}$/.test(prefix) && bits <= (family === 4 ? 32 : 128)));
    if (!valid) throw new Error(`TRUST_PROXY must be ${SHAPE}; "${entry}" is none of these`);
    const type = family === 4 ? 'ipv4' : 'ipv6';
    if (bits === undefined) ranges.addAddress(address, type);
    else ranges.addSubnet(address, bits, type);
  }
  return ranges;
}

/** The message for a TRUST_PROXY value that must not start the app, or undefined. */
export function trustProxyProblem(value: string, production: boolean): string | undefined {
  try {
    const trust = parseTrustProxy(value);
    if (trust === true && production) {
      return (
        'TRUST_PROXY=true believes X-Forwarded-For from any sender, so every client could pick its own address ' +
        'and leave its rate-limit bucket; refused in production: list the proxy addresses/CIDRs instead'
      );
    }
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}
