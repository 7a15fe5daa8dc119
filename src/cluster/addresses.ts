import { KurError } from '../util/errors.js';

/**
 * Static addresses for nodes. Engines re-assign dynamic IPs and random host ports when they
 * restart, which leaves kubelet, etcd and the API server configured for addresses that are gone
 * (or, on a shared network, someone else's). So every node gets an IPv4 address and the API
 * server an explicit host port, chosen once at create and kept for the cluster's whole life.
 *
 * The shared network's subnet is split: kur hands out static addresses from the lower half and
 * leaves the upper half (`ipRange`) to the engine's dynamic allocation, so a container someone
 * attaches without an address can never take one a stopped node will come back on.
 */
export interface NetworkPlan {
  subnet: string;
  gateway: string;
  /** Where the engine allocates dynamic addresses. */
  ipRange: string;
}

export function ipv4ToNumber(ip: string): number {
  const parts = ip.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) {
    throw new KurError('internal', `not an IPv4 address: ${ip}`);
  }
  return ((parts[0]! << 24) >>> 0) + (parts[1]! << 16) + (parts[2]! << 8) + parts[3]!;
}

export function numberToIpv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export function parseCidr(cidr: string): { base: number; bits: number } {
  const [ip, bits] = cidr.split('/');
  const prefix = Number(bits);
  if (ip === undefined || !Number.isInteger(prefix) || prefix < 0 || prefix > 32) {
    throw new KurError('internal', `not an IPv4 CIDR: ${cidr}`);
  }
  return { base: (ipv4ToNumber(ip) & prefixMask(prefix)) >>> 0, bits: prefix };
}

function prefixMask(bits: number): number {
  // A shift by 32 is a shift by 0 in JavaScript: /0 needs its own case.
  return bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
}

export function cidrsOverlap(a: string, b: string): boolean {
  const x = parseCidr(a);
  const y = parseCidr(b);
  const mask = prefixMask(Math.min(x.bits, y.bits));
  return (x.base & mask) >>> 0 === (y.base & mask) >>> 0;
}

/** The network layout kur asks for: gateway first address, dynamic allocation in the upper half. */
export function networkPlan(subnet: string): NetworkPlan {
  const { base, bits } = parseCidr(subnet);
  return {
    subnet: `${numberToIpv4(base)}/${bits}`,
    gateway: numberToIpv4(base + 1),
    ipRange: `${numberToIpv4(base + 2 ** (32 - bits - 1))}/${bits + 1}`,
  };
}

/**
 * Subnets kur tries for its network, in order: Docker's and Podman's usual pools are avoided
 * first (172.17 is Docker's default bridge, 10.88 Podman's default network).
 */
export const candidateSubnets: readonly string[] = [
  ...Array.from({ length: 14 }, (_, i) => `172.${18 + i}.0.0/16`),
  ...Array.from({ length: 16 }, (_, i) => `10.${90 + i}.0.0/16`),
];

/** The first candidate that overlaps none of `taken` (engine networks and host routes). */
export function chooseSubnet(taken: readonly string[], candidates = candidateSubnets): string {
  const free = candidates.find((c) => !taken.some((t) => cidrsOverlap(c, t)));
  if (free === undefined) {
    throw new KurError('engine', 'no free subnet for the kur network', {
      detail: `tried ${candidates.join(', ')}; taken: ${taken.join(', ')}`,
      hint: 'Remove unused engine networks, or create a network named "kur" with a subnet yourself.',
    });
  }
  return free;
}

/**
 * `count` static addresses from the lower half of the subnet (after the gateway), skipping
 * every address in `taken`: those of other clusters (running or stopped, from their claims)
 * and anything attached to the network right now.
 */
export function chooseAddresses(plan: NetworkPlan, taken: ReadonlySet<string>, count: number): string[] {
  const { base, bits } = parseCidr(plan.subnet);
  const first = base + 2;
  const end = base + 2 ** (32 - bits - 1);
  const chosen: string[] = [];
  for (let n = first; n < end && chosen.length < count; n += 1) {
    const ip = numberToIpv4(n);
    if (!taken.has(ip) && ip !== plan.gateway) chosen.push(ip);
  }
  if (chosen.length < count) {
    throw new KurError('engine', `the kur network ${plan.subnet} has no ${count} free static addresses`, {
      hint: 'Delete clusters you no longer need (`kur get clusters`).',
    });
  }
  return chosen;
}

/**
 * A host port (API server, Service load balancer): the first of the kernel's suggestions (ports
 * it just found free) that no cluster or container holds, running or not.
 */
export function choosePort(candidates: readonly number[], taken: ReadonlySet<number>): number {
  const port = candidates.find((p) => p > 0 && !taken.has(p));
  if (port === undefined)
    throw new KurError('engine', 'no free host port', {
      hint: 'Free some ports on the host, or delete clusters and load balancers you no longer need.',
    });
  return port;
}
