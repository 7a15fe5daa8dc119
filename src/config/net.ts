import { isIP } from 'node:net';

/** An IPv4 network: its first address as a 32-bit number and its prefix length. */
export interface Ipv4Cidr {
  base: number;
  prefix: number;
}

/** Parses dotted-quad IPv4 (no leading zeros, which some parsers read as octal). */
export function parseIpv4(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let value = 0;
  for (const part of parts) {
    if (!/^(0|[1-9]\d{0,2})$/.test(part)) return undefined;
    const n = Number(part);
    if (n > 255) return undefined;
    value = value * 256 + n;
  }
  return value;
}

export function formatIpv4(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join('.');
}

export type CidrResult = { ok: true; cidr: Ipv4Cidr } | { ok: false; problem: string; canonical?: string };

/** Parses `a.b.c.d/n`, requiring the host bits to be zero (kubeadm and Flannel expect a network). */
export function parseIpv4Cidr(text: string): CidrResult {
  const slash = text.indexOf('/');
  if (slash < 0) return { ok: false, problem: 'is not a CIDR (expected a.b.c.d/n)' };
  const address = text.slice(0, slash);
  const prefixText = text.slice(slash + 1);
  if (isIP(address) === 6) return { ok: false, problem: 'is IPv6; kur supports IPv4 networks only' };
  const ip = parseIpv4(address);
  if (ip === undefined)
    return { ok: false, problem: `has an invalid IPv4 address ${JSON.stringify(address)}` };
  if (!/^\d{1,2}$/.test(prefixText) || Number(prefixText) > 32) {
    return { ok: false, problem: `has an invalid prefix length ${JSON.stringify(prefixText)} (0-32)` };
  }
  const prefix = Number(prefixText);
  const size = 2 ** (32 - prefix);
  const base = Math.floor(ip / size) * size;
  if (base !== ip) {
    const canonical = `${formatIpv4(base)}/${prefix}`;
    return { ok: false, problem: `has host bits set (the network is ${canonical})`, canonical };
  }
  return { ok: true, cidr: { base, prefix } };
}

export function cidrsOverlap(a: Ipv4Cidr, b: Ipv4Cidr): boolean {
  const aEnd = a.base + 2 ** (32 - a.prefix);
  const bEnd = b.base + 2 ** (32 - b.prefix);
  return a.base < bEnd && b.base < aEnd;
}

/** True for a literal IPv4 or IPv6 address. */
export function isIpAddress(text: string): boolean {
  return isIP(text) !== 0 && (isIP(text) === 6 || parseIpv4(text) !== undefined);
}

/** The unspecified address of the address's family (0.0.0.0 or ::) listens on every address. */
export function isWildcardAddress(text: string): boolean {
  return text === '0.0.0.0' || text === '::';
}
