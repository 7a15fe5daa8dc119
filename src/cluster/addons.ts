import type { Engine } from '../engine/types.js';
import {
  findAddonImages,
  nfqueueMissing,
  nfqueueProbe,
  planAddons,
  type AddonName,
} from '../kube/addons/index.js';
import type { ClusterPlan } from '../kube/plan.js';
import { nodePaths } from '../node/layout.js';
import type { Logger } from '../util/logger.js';
import { applyManifest } from './bootstrap.js';
import { readFile, tryRun, writeFiles, type NodeRef } from './node-ops.js';

/** Where the add-on manifest is written in the bootstrap node before `kubectl apply`. */
export const addonsManifestPath = '/kur/manifests/addons.yaml';

/**
 * Applies the add-ons the config enables (default StorageClass, NetworkPolicy enforcement) from
 * the bootstrap node, with the images its node image preloads (/etc/kur/manifest.json), and
 * returns without waiting for their pods: a cluster is usable before they run. An add-on the
 * node image lacks is a warning, not a failure.
 */
export async function applyAddons(
  engine: Engine,
  node: NodeRef,
  plan: Pick<ClusterPlan, 'config' | 'controlPlaneEndpoint'>,
  logger: Logger,
): Promise<AddonName[]> {
  const imageManifest = JSON.parse(await readFile(engine, node, nodePaths.manifest)) as {
    preloadedImages?: { name: string }[];
  };
  const preloaded = (imageManifest.preloadedImages ?? []).map((i) => i.name);
  const unsupported = plan.config.networking.networkPolicy
    ? await nfqueueUnsupported(engine, node)
    : undefined;
  const addons = planAddons(plan.config, findAddonImages(preloaded), plan.controlPlaneEndpoint, {
    ...(unsupported !== undefined ? { networkPolicyUnsupported: unsupported } : {}),
  });
  for (const { addon, reason } of addons.missing) logger.warn(`add-on ${addon} left out: ${reason}`);
  if (addons.manifest === undefined) return [];
  await writeFiles(engine, node, [{ path: addonsManifestPath, mode: 0o644, content: addons.manifest }]);
  await applyManifest(engine, node, addonsManifestPath);
  return addons.installed;
}

/** Why the node's kernel cannot run the NetworkPolicy agent's dataplane, or undefined. */
async function nfqueueUnsupported(engine: Engine, node: NodeRef): Promise<string | undefined> {
  const result = await tryRun(engine, node, ['sh', '-c', nfqueueProbe], 10_000);
  return nfqueueMissing(result.exitCode, `${result.stdout}${result.stderr}`);
}
