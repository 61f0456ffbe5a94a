/**
 * IP addresses and CIDR blocks as event patterns compare them: as byte strings, IPv4 (4 bytes) and
 * IPv6 (16 bytes) kept apart.
 */

const IPV4_SHAPE = /^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$/;
const IPV6_SHAPE = /^[0-9a-fA-F:]*:[0-9a-fA-F:]*$/;

/** True when the text has the shape of an IP address literal (it may still be an invalid one). */
export function looksLikeIp(text: string): boolean {
  return IPV4_SHAPE.test(text) || IPV6_SHAPE.test(text);
}

/** The bytes of an IPv4 or IPv6 literal, or undefined when it is not a valid one. */
function parseIp(text: string): Uint8Array | undefined {
  if (IPV4_SHAPE.test(text)) return parseIpv4(text);
  if (IPV6_SHAPE.test(text)) return parseIpv6(text);
  return undefined;
}

function parseIpv4(text: string): Uint8Array | undefined {
  const parts = text.split('.').map(Number);
  if (parts.some((p) => !Number.isInteger(p) || p > 255)) return undefined;
  return Uint8Array.from(parts);
}

function parseIpv6(text: string): Uint8Array | undefined {
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const groups = (half: string | undefined) => (half ? half.split(':') : []);
  const head = groups(halves[0]);
  const tail = groups(halves[1]);
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const all = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...tail];
  const bytes = new Uint8Array(16);
  for (const [i, group] of all.entries()) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(group)) return undefined;
    const value = Number.parseInt(group, 16);
    bytes[i * 2] = value >> 8;
    bytes[i * 2 + 1] = value & 0xff;
  }
  return bytes;
}

/** An inclusive range of addresses of one family. */
export interface IpRange {
  readonly lower: Uint8Array;
  readonly upper: Uint8Array;
}

/** The range a CIDR block covers, or the reason it is rejected (worded as EventBridge words it). */
export function parseCidr(text: string): IpRange | { error: string } {
  const parts = text.split('/');
  if (parts.length !== 2) return { error: "Malformed CIDR, one '/' required" };
  const [address = '', bitsText = ''] = parts;
  if (!/^[+-]?\d+$/.test(bitsText)) return { error: 'Malformed CIDR, mask bits must be an integer' };
  const bits = Number(bitsText);
  if (bits < 0) return { error: 'Malformed CIDR, mask bits must not be negative' };
  if (!looksLikeIp(address)) return { error: `Nonstandard IP address: ${address}` };
  const base = parseIp(address);
  if (!base) return { error: `Invalid IP address: ${address}` };
  if (base.length === 4 && bits > 31) return { error: 'IPv4 mask bits must be < 32' };
  if (base.length === 16 && bits > 127) return { error: 'IPv6 mask bits must be < 128' };
  // The block is the whole network: host bits cleared for its bottom and set for its top, whatever
  // the address as written has in them (`10.0.0.255/24` is 10.0.0.0 .. 10.0.0.255, as event-ruler's
  // CIDR.java computes it).
  const lower = Uint8Array.from(base);
  const upper = Uint8Array.from(base);
  let hostBits = base.length * 8 - bits;
  for (let i = base.length - 1; i >= 0 && hostBits > 0; i--, hostBits -= 8) {
    const mask = hostBits >= 8 ? 0xff : (1 << hostBits) - 1;
    lower[i] = (lower[i] ?? 0) & ~mask & 0xff;
    upper[i] = (upper[i] ?? 0) | mask;
  }
  return { lower, upper };
}

/** The one-address range of an IP literal, if the text is a valid one. */
export function ipRangeOf(text: string): IpRange | undefined {
  const bytes = parseIp(text);
  return bytes ? { lower: bytes, upper: bytes } : undefined;
}

/** True when `text` is an IP address of the range's family within it. */
export function inRange(range: IpRange, text: string): boolean {
  const bytes = parseIp(text);
  if (!bytes || bytes.length !== range.lower.length) return false;
  return compare(bytes, range.lower) >= 0 && compare(bytes, range.upper) <= 0;
}

function compare(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < a.length; i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}
