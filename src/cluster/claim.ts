import { labels } from '../engine/labels.js';
import type { ContainerSummary, Engine } from '../engine/types.js';
import { isKurError, KurError } from '../util/errors.js';

/**
 * A cluster's claim: a container that is created first and never started. Its name is unique on
 * the engine, so creating it claims the cluster name atomically (of two creates of one name,
 * exactly one gets it); its labels record what the cluster holds for life (node addresses, the
 * API server's host port, the run that made it), and a marker file written into it when create
 * finishes tells a complete cluster from one whose create was killed.
 */
export interface ClusterClaim {
  cluster: string;
  runId: string;
  /** Node (and load balancer) container name -> static IPv4 address. */
  addresses: Record<string, string>;
  apiPort: number;
  /** The cluster DNS service address: start asks it a real question before it returns. */
  clusterDns: string;
}

/** Node names are `<cluster>-<role>…`: a dot never appears in one, so a claim's name cannot collide. */
export function claimName(cluster: string): string {
  return `${cluster}.kur-cluster`;
}

export const claimRole = 'cluster';

/** Written into the claim container when create finishes. */
export const completeMarkerPath = '/kur-cluster-complete';

export function claimLabels(claim: ClusterClaim): Record<string, string> {
  return {
    [labels.cluster]: claim.cluster,
    [labels.role]: claimRole,
    [labels.node]: claimName(claim.cluster),
    [labels.run]: claim.runId,
    [labels.addresses]: Object.entries(claim.addresses)
      .map(([node, ip]) => `${node}=${ip}`)
      .join(','),
    [labels.apiPort]: String(claim.apiPort),
    [labels.clusterDns]: claim.clusterDns,
  };
}

/** Reads a claim back from its labels; undefined for containers that are not claims. */
export function claimFromLabels(values: Record<string, string>): ClusterClaim | undefined {
  if (values[labels.role] !== claimRole) return undefined;
  const cluster = values[labels.cluster];
  if (cluster === undefined) return undefined;
  const addresses: Record<string, string> = {};
  for (const pair of (values[labels.addresses] ?? '').split(',')) {
    const [node, ip] = pair.split('=');
    if (node !== undefined && ip !== undefined && node !== '') addresses[node] = ip;
  }
  return {
    cluster,
    runId: values[labels.run] ?? '',
    addresses,
    apiPort: Number(values[labels.apiPort] ?? 0),
    clusterDns: values[labels.clusterDns] ?? '',
  };
}

/** Every claim on the engine (any cluster, any state). */
export async function listClaims(
  engine: Engine,
): Promise<{ claim: ClusterClaim; container: ContainerSummary }[]> {
  const found = await engine.containers.list({ labels: { [labels.role]: claimRole } });
  return found.flatMap((container) => {
    const claim = claimFromLabels(container.labels);
    return claim === undefined ? [] : [{ claim, container }];
  });
}

/** Creates the claim; a cluster of that name existing already is a 'conflict' (exit 7). */
export async function createClaim(engine: Engine, claim: ClusterClaim, image: string): Promise<string> {
  try {
    return await engine.containers.create({
      name: claimName(claim.cluster),
      image,
      entrypoint: ['/bin/true'],
      cmd: [],
      labels: claimLabels(claim),
    });
  } catch (error) {
    if (!isKurError(error, 'conflict')) throw error;
    throw alreadyExists(claim.cluster);
  }
}

export function alreadyExists(cluster: string): KurError {
  return new KurError('conflict', `a cluster named "${cluster}" already exists`, {
    hint: `Delete it with \`kur delete cluster --name ${cluster}\`, or choose another name with --name.`,
  });
}
