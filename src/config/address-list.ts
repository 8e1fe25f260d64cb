/** Lists of IPv4/IPv6 addresses and CIDR ranges, and whether an address falls in one. */
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';
import type { Result } from '../lib/result.js';
import { ok, problem } from '../lib/result.js';
import { LINKMOBILITY_HOSTS } from './linkmobility-hosts.js';

type Range = [ipaddr.IPv4 | ipaddr.IPv6, number];

export interface AddressList {
  /** The entries as written, `linkmobility` expanded: for logs and the README's examples. */
  readonly entries: readonly string[];
  readonly includes: (address: string) => boolean;
}

/** Parses `a, b/24, linkmobility`; the word `linkmobility` stands for every Appendix 1 host. */
export function parseAddressList(text: string): Result<AddressList> {
  const entries = text
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '')
    .flatMap((entry) => (entry.toLowerCase() === 'linkmobility' ? LINKMOBILITY_HOSTS.map(([, address]) => address) : [entry]));
  if (entries.length === 0) return problem('names no address');
  const ranges: Range[] = [];
  for (const entry of entries) {
    const range = parseRange(entry);
    if (range === null) return problem(`"${entry}" is not an IPv4/IPv6 address or CIDR range${writingHint(entry)}`);
    ranges.push(range);
  }
  return ok({ entries, includes: (address) => rangesInclude(ranges, address) });
}

function parseRange(entry: string): Range | null {
  if (!isStandardAddress(addressPart(entry))) return null;
  try {
    if (entry.includes('/')) return normalizeRange(ipaddr.parseCIDR(entry));
    const address = canonical(ipaddr.parse(entry));
    return [address, address.kind() === 'ipv4' ? 32 : 128];
  } catch {
    return null;
  }
}

/** `::ffff:10.0.0.0/104` and `10.0.0.0/8` are the same range: keep IPv4 ranges as IPv4. */
function normalizeRange([address, bits]: Range): Range {
  if (address.kind() === 'ipv6' && (address as ipaddr.IPv6).isIPv4MappedAddress() && bits >= 96) {
    return [(address as ipaddr.IPv6).toIPv4Address(), bits - 96];
  }
  return [address, bits];
}

/** An IPv4-mapped IPv6 address (`::ffff:62.67.62.101`) is the IPv4 address it carries. */
function canonical(address: ipaddr.IPv4 | ipaddr.IPv6): ipaddr.IPv4 | ipaddr.IPv6 {
  if (address.kind() === 'ipv6' && (address as ipaddr.IPv6).isIPv4MappedAddress()) {
    return (address as ipaddr.IPv6).toIPv4Address();
  }
  return address;
}

/**
 * An address as sockets and `inet_pton` write it. ipaddr.js also reads `inet_aton`'s old forms, in
 * which `062.067.062.101` is octal for 50.55.50.101, `10.1` is 10.0.0.1 and one number is a whole
 * address: an allow list must mean what it shows, so those are refused.
 */
function isStandardAddress(text: string): boolean {
  return isIP(text) !== 0;
}

function addressPart(entry: string): string {
  const slash = entry.indexOf('/');
  return slash === -1 ? entry : entry.slice(0, slash);
}

/** For an entry in one of `inet_aton`'s forms, how to write it instead; otherwise nothing. */
export function writingHint(entry: string): string {
  const address = addressPart(entry);
  return !isStandardAddress(address) && ipaddr.IPv4.isValid(address) ? '; write IPv4 as four decimal numbers without leading zeros' : '';
}

function rangesInclude(ranges: readonly Range[], text: string): boolean {
  if (!isStandardAddress(text)) return false;
  let address: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    address = canonical(ipaddr.parse(text));
  } catch {
    return false;
  }
  return ranges.some(([base, bits]) => base.kind() === address.kind() && address.match(base, bits));
}

/** Whether the caller is this machine: 127.0.0.0/8, ::1, or either mapped into IPv6. */
export function isLoopback(text: string): boolean {
  if (!isStandardAddress(text)) return false;
  try {
    return canonical(ipaddr.parse(text)).range() === 'loopback';
  } catch {
    return false;
  }
}

export function isAddressOrRange(entry: string): boolean {
  return parseRange(entry) !== null;
}
