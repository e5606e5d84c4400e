/** IPv4 addresses as unsigned 32-bit numbers, and CIDR arithmetic on them. */

export interface Cidr {
  /** Network address (host bits zero). */
  readonly base: number;
  readonly prefix: number;
}

/** An inclusive range of addresses. */
export interface AddressRange {
  readonly first: number;
  readonly last: number;
}

const OCTET = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

/** Parses dotted-quad IPv4; throws on anything else. */
export function parseIp(text: string): number {
  const parts = text.split('.');
  if (parts.length !== 4 || !parts.every((p) => OCTET.test(p))) {
    throw new Error(`not an IPv4 address: ${JSON.stringify(text)}`);
  }
  return parts.reduce((n, p) => n * 256 + Number(p), 0);
}

export function formatIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export function isIp(text: string): boolean {
  try {
    parseIp(text);
    return true;
  } catch {
    return false;
  }
}

/** Parses `a.b.c.d/n`; the address must be the network address (no host bits set). */
export function parseCidr(text: string): Cidr {
  const [ip, prefixText, ...rest] = text.split('/');
  if (ip === undefined || prefixText === undefined || rest.length > 0 || !/^\d{1,2}$/.test(prefixText)) {
    throw new Error(`not an IPv4 CIDR: ${JSON.stringify(text)}`);
  }
  const prefix = Number(prefixText);
  if (prefix > 32) throw new Error(`prefix length out of range: ${JSON.stringify(text)}`);
  const base = parseIp(ip);
  if (base % size({ base: 0, prefix }) !== 0) {
    throw new Error(`host bits set in ${text}: did you mean ${formatCidr(cidrOf(base, prefix))}?`);
  }
  return { base, prefix };
}

export function formatCidr(cidr: Cidr): string {
  return `${formatIp(cidr.base)}/${cidr.prefix}`;
}

/** The network of `ip` with this prefix length. */
export function cidrOf(ip: number, prefix: number): Cidr {
  const n = size({ base: 0, prefix });
  return { base: ip - (ip % n), prefix };
}

/** Number of addresses in the CIDR. */
export function size(cidr: Cidr): number {
  return 2 ** (32 - cidr.prefix);
}

export function lastOf(cidr: Cidr): number {
  return cidr.base + size(cidr) - 1;
}

export function contains(cidr: Cidr, ip: number): boolean {
  return ip >= cidr.base && ip <= lastOf(cidr);
}

export function overlaps(a: Cidr, b: Cidr): boolean {
  return a.base <= lastOf(b) && b.base <= lastOf(a);
}

/** The sub-networks of `cidr` with prefix `subPrefix`, in address order. */
export function subnets(cidr: Cidr, subPrefix: number): Cidr[] {
  if (subPrefix < cidr.prefix) throw new Error(`/${subPrefix} is larger than ${formatCidr(cidr)}`);
  const step = size({ base: 0, prefix: subPrefix });
  const out: Cidr[] = [];
  for (let base = cidr.base; base <= lastOf(cidr); base += step) out.push({ base, prefix: subPrefix });
  return out;
}

/** Parses `a.b.c.d`, `a.b.c.d-e.f.g.h` or a CIDR into an inclusive range. */
export function parseRange(text: string): AddressRange {
  if (text.includes('/')) {
    const cidr = parseCidr(text);
    return { first: cidr.base, last: lastOf(cidr) };
  }
  const [from, to, ...rest] = text.split('-');
  if (from === undefined || rest.length > 0) throw new Error(`not an address range: ${JSON.stringify(text)}`);
  const first = parseIp(from.trim());
  const last = to === undefined ? first : parseIp(to.trim());
  if (last < first) throw new Error(`range ends before it starts: ${text}`);
  return { first, last };
}

export function inRanges(ranges: readonly AddressRange[], ip: number): boolean {
  return ranges.some((r) => ip >= r.first && ip <= r.last);
}

/** `ip` as a fixed-width hex string, so keys sort in address order. */
export function ipSortKey(ip: number): string {
  return ip.toString(16).padStart(8, '0');
}
