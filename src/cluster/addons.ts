import type { Engine } from '../engine/types.js';
import { findAddonImages, planAddons, type AddonName } from '../kube/addons/index.js';
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
  const unsupported = plan.config.networking.networkPolicy ? await nftQueueMissing(engine, node) : undefined;
  const addons = planAddons(plan.config, findAddonImages(preloaded), plan.controlPlaneEndpoint, {
    ...(unsupported !== undefined ? { networkPolicyUnsupported: unsupported } : {}),
  });
  for (const { addon, reason } of addons.missing) logger.warn(`add-on ${addon} left out: ${reason}`);
  if (addons.manifest === undefined) return [];
  await writeFiles(engine, node, [{ path: addonsManifestPath, mode: 0o644, content: addons.manifest }]);
  await applyManifest(engine, node, addonsManifestPath);
  return addons.installed;
}

/** A throwaway nftables table with one `queue` rule, added and removed in one go in the node. */
const nftQueueProbe = [
  'printf "table inet kur_nfqueue_probe {\\n chain c {\\n queue num 65000 bypass\\n }\\n}\\n" | nft -f - 2>&1',
  'rc=$?',
  'nft delete table inet kur_nfqueue_probe 2>/dev/null',
  'exit $rc',
].join('; ');

/**
 * kube-network-policies hands new connections to user space with nftables' `queue` expression,
 * which some kernels lack (CONFIG_NFT_QUEUE unset: "Could not process rule: No such file or
 * directory"). Nodes share the host's kernel, so one probe in the bootstrap node answers for all.
 * Returns why it cannot work, or undefined when it can.
 */
async function nftQueueMissing(engine: Engine, node: NodeRef): Promise<string | undefined> {
  const result = await tryRun(engine, node, ['sh', '-c', nftQueueProbe], 10_000);
  if (result.exitCode === 0) return undefined;
  const error =
    `${result.stdout}${result.stderr}`.split('\n').find((l) => l.includes('Error:')) ??
    `exit ${result.exitCode}`;
  return `the host kernel cannot queue packets from nftables (nft_queue, CONFIG_NFT_QUEUE): nft says "${error
    .replace(/^.*Error: /, '')
    .replace(/; did you mean .*$/, '')
    .trim()}"`;
}
