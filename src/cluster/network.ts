import { readFile } from 'node:fs/promises';
import { labels } from '../engine/labels.js';
import type { Engine, NetworkInfo } from '../engine/types.js';
import { isKurError, KurError, messageOf } from '../util/errors.js';
import type { Logger } from '../util/logger.js';
import { chooseSubnet, networkPlan, type NetworkPlan } from './addresses.js';
import { clusterNetworkName } from './node-spec.js';

/**
 * The engine network every kur cluster joins. It has a subnet kur chose (engines give static
 * addresses only on such networks) and lives while any kur cluster exists, running or stopped:
 * a stopped node reattaches to it by name when it starts again.
 */
const networkVersion = '2';

export interface ClusterNetwork {
  plan: NetworkPlan;
  /** This call made the network (so a rollback may remove it when nothing else uses it). */
  created: boolean;
}

export interface EnsureNetworkOptions {
  mtu: number | undefined;
  logger: Logger;
  /** Read the host's routes to avoid (local engines only). */
  hostRoutes?: () => Promise<string[]>;
}

export async function ensureClusterNetwork(
  engine: Engine,
  options: EnsureNetworkOptions,
): Promise<ClusterNetwork> {
  const existing = await inspectNetwork(engine);
  if (existing !== undefined) return { plan: usablePlan(existing), created: false };
  const taken = [
    ...(await engine.networks.list()).flatMap((n) => n.subnets.map((s) => s.subnet)).filter(isIpv4Cidr),
    ...((await options.hostRoutes?.()) ?? []),
  ];
  // The engine may know of more (rootless Podman refuses a subnet any host interface uses):
  // a refused subnet is skipped and the next candidate tried.
  for (let attempt = 0; attempt < 8; attempt += 1) {
    const plan = networkPlan(chooseSubnet(taken));
    try {
      await engine.networks.create({
        name: clusterNetworkName,
        driver: 'bridge',
        subnet: plan.subnet,
        gateway: plan.gateway,
        ipRange: plan.ipRange,
        labels: { [labels.managed]: 'true', [labels.networkVersion]: networkVersion },
        ...(options.mtu !== undefined ? { mtu: options.mtu } : {}),
      });
      options.logger.debug(`created network ${clusterNetworkName} ${plan.subnet}`);
      return { plan, created: true };
    } catch (error) {
      if (subnetRefused(error)) {
        options.logger.debug(`the engine refused subnet ${plan.subnet}: ${messageOf(error)}`);
        taken.push(plan.subnet);
        continue;
      }
      // Another kur created it at the same moment: use theirs.
      if (!isKurError(error, 'conflict')) throw error;
      const theirs = await inspectNetwork(engine);
      if (theirs === undefined) throw error;
      return { plan: usablePlan(theirs), created: false };
    }
  }
  throw new KurError(
    'engine',
    `the engine refused every subnet kur tried for the network "${clusterNetworkName}"`,
    {
      detail: `tried: ${taken.join(', ')}`,
      hint: `Create a network named "${clusterNetworkName}" with a free subnet yourself, labelled ${labels.networkVersion}=${networkVersion}.`,
    },
  );
}

/** Docker: "Pool overlaps with other one on this address space"; Podman: "subnet ... is already used". */
function subnetRefused(error: unknown): boolean {
  return (
    isKurError(error) &&
    /overlap|already used|already in use by|subnet .* in use/i.test(`${error.message} ${error.detail ?? ''}`)
  );
}

async function inspectNetwork(engine: Engine): Promise<NetworkInfo | undefined> {
  try {
    return await engine.networks.inspect(clusterNetworkName);
  } catch (error) {
    if (isKurError(error, 'notFound')) return undefined;
    throw error;
  }
}

function usablePlan(network: NetworkInfo): NetworkPlan {
  const subnet = network.subnets.map((s) => s.subnet).find(isIpv4Cidr);
  if (network.labels[labels.networkVersion] !== networkVersion || subnet === undefined) {
    throw new KurError('conflict', `the engine network "${clusterNetworkName}" was not made by this kur`, {
      detail: `labels: ${JSON.stringify(network.labels)}; subnets: ${network.subnets.map((s) => s.subnet).join(', ')}`,
      hint:
        'Clusters need static addresses on a network with a subnet kur chose. Delete every kur cluster ' +
        `(\`kur delete cluster --all\`), then remove the network "${clusterNetworkName}" if it is still there.`,
    });
  }
  return networkPlan(subnet);
}

function isIpv4Cidr(cidr: string): boolean {
  return /^\d+\.\d+\.\d+\.\d+\/\d+$/.test(cidr);
}

/**
 * Removes the shared network when no kur cluster exists any more. Stopped nodes are not attached
 * to it, so the engine's own "in use" check is not enough: any container with a cluster label
 * (nodes, claims of clusters being created) keeps it.
 */
export async function removeClusterNetworkIfUnused(engine: Engine, logger: Logger): Promise<boolean> {
  const info = await inspectNetwork(engine);
  if (info === undefined) return false;
  if (info.labels[labels.managed] !== 'true' || Object.keys(info.containers).length > 0) return false;
  const others = await engine.containers.list({ labels: { [labels.cluster]: true } });
  if (others.length > 0) return false;
  // A stopped local registry reattaches to it by name too.
  const registries = await engine.containers.list({ labels: { [labels.registry]: true } });
  if (registries.length > 0) return false;
  try {
    await engine.networks.remove(clusterNetworkName);
    logger.debug(`removed network ${clusterNetworkName}`);
    return true;
  } catch (error) {
    // Someone attached a container meanwhile: leave it.
    if (isKurError(error, 'conflict') || isKurError(error, 'notFound')) return false;
    throw error;
  }
}

/** IPv4 routes of the local host (`/proc/net/route`), default route left out. */
export async function readHostRoutes(): Promise<string[]> {
  const text = await readFile('/proc/net/route', 'utf8').catch(() => '');
  return text
    .split('\n')
    .slice(1)
    .map((line) => line.trim().split(/\s+/))
    .filter((f) => f.length >= 8 && f[1] !== '00000000')
    .map((f) => `${littleEndianHexToIpv4(f[1]!)}/${maskBits(littleEndianHexToIpv4(f[7]!))}`);
}

function littleEndianHexToIpv4(hex: string): string {
  const n = parseInt(hex, 16);
  return [n & 255, (n >>> 8) & 255, (n >>> 16) & 255, n >>> 24].join('.');
}

function maskBits(mask: string): number {
  return mask
    .split('.')
    .map((o) => Number(o).toString(2).split('1').length - 1)
    .reduce((a, b) => a + b, 0);
}
