import { labels } from '../engine/labels.js';
import type { ContainerSummary, Engine } from '../engine/types.js';
import { contextName } from '../config/names.js';
import { isKurError } from '../util/errors.js';
import type { Logger } from '../util/logger.js';
import { updateKubeconfigFile, readIfExists } from './kubeconfig-file.js';
import { hasKubeconfigEntry, removeKubeconfigEntry } from './kubeconfig-merge.js';
import { claimName, claimRole } from './claim.js';
import { withEngineLock } from './engine-lock.js';
import { removeClusterNetworkIfUnused } from './network.js';

export interface DeleteClusterOptions {
  engine: Engine;
  logger: Logger;
  name: string;
  /** The kubeconfig to remove the cluster's entries from; undefined leaves kubeconfigs alone. */
  kubeconfigPath: string | undefined;
}

export interface DeletedCluster {
  name: string;
  /** Containers removed (nodes and load balancer). */
  containers: string[];
  volumes: string[];
  networkRemoved: boolean;
  kubeconfigEntryRemoved: boolean;
}

/**
 * Deletes a cluster: every container and volume labelled with its name, the shared network when
 * it is left unused, and its kubeconfig entries. Idempotent: deleting a cluster that does not
 * exist succeeds and says nothing was there. Only objects carrying kur's labels are touched.
 */
export async function deleteCluster(options: DeleteClusterOptions): Promise<DeletedCluster> {
  const { engine, logger, name } = options;
  const images = (await engine.containers.list({ labels: { [labels.cluster]: name } })).map((c) => c.image);
  const containers = await removeClusterContainers(engine, name);
  const volumes = await removeClusterVolumes(engine, name);
  // Under the engine lock, so a create that is claiming addresses on the network keeps it, and
  // once more for the cluster's containers: a Service load-balancer controller creates its
  // containers under this lock while the nodes run, so one it made after the first sweep's list
  // is found here, and none is made after.
  const networkRemoved =
    images[0] === undefined
      ? false
      : await withEngineLock(engine, { image: images[0], logger }, async () => {
          containers.push(...(await removeClusterContainers(engine, name)));
          return removeClusterNetworkIfUnused(engine, logger);
        });
  let kubeconfigEntryRemoved = false;
  if (options.kubeconfigPath !== undefined) {
    const path = options.kubeconfigPath;
    const context = contextName(name);
    if (hasKubeconfigEntry(await readIfExists(path), context, path)) {
      await updateKubeconfigFile(path, (existing) => removeKubeconfigEntry(existing, context, path));
      kubeconfigEntryRemoved = true;
    }
  }
  // The claim is kur's record of the cluster, not one of its containers: it goes, unlisted.
  const removed = containers.filter((c) => c !== claimName(name)).sort();
  return { name, containers: removed, volumes, networkRemoved, kubeconfigEntryRemoved };
}

/**
 * Kills, then removes, every container of a cluster with its anonymous volumes, in parallel.
 * Killing first because a forced remove on Podman stops a node politely (systemd's halt signal,
 * then a timeout), seconds per node; a disposable node has nothing to save.
 */
export async function removeClusterContainers(
  engine: Engine,
  name: string,
  only: { runId?: string; keepClaim?: boolean } = {},
): Promise<string[]> {
  const listed = await engine.containers.list({
    labels: { [labels.cluster]: name, ...(only.runId !== undefined ? { [labels.run]: only.runId } : {}) },
  });
  const found = only.keepClaim === true ? listed.filter((c) => c.labels[labels.role] !== claimRole) : listed;
  await Promise.all(found.map((c) => killAndRemove(engine, c)));
  return found.map((c) => c.name).sort();
}

/** Kills a container when it runs, then removes it with its anonymous volumes; one already gone is fine. */
export async function killAndRemove(
  engine: Engine,
  c: Pick<ContainerSummary, 'id' | 'state'>,
): Promise<void> {
  try {
    if (c.state === 'running') {
      // It may stop on its own meanwhile (conflict: not running); the remove still follows.
      await engine.containers.kill(c.id).catch((error: unknown) => {
        if (!isKurError(error, 'conflict')) throw error;
      });
    }
    await engine.containers.remove(c.id, { force: true, volumes: true });
  } catch (error) {
    // Already gone (a concurrent delete, or the engine's auto-removal): that is the goal.
    if (!isKurError(error, 'notFound')) throw error;
  }
}

/** Volumes labelled for the cluster that outlived their containers (e.g. an interrupted create). */
async function removeClusterVolumes(engine: Engine, name: string): Promise<string[]> {
  const found = await engine.volumes.list({ labels: { [labels.cluster]: name } });
  const removed: string[] = [];
  for (const volume of found) {
    try {
      await engine.volumes.remove(volume.name, { force: true });
      removed.push(volume.name);
    } catch (error) {
      if (!isKurError(error, 'notFound')) throw error;
    }
  }
  return removed;
}

/** Names of every cluster on the engine (from node container labels). */
export async function listClusterNames(engine: Engine): Promise<string[]> {
  const found = await engine.containers.list({ labels: { [labels.cluster]: true } });
  return [
    ...new Set(found.map((c) => c.labels[labels.cluster]).filter((n): n is string => n !== undefined)),
  ].sort();
}
