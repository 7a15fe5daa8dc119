import { labels } from '../../src/engine/labels.js';
import type { Engine } from '../../src/engine/types.js';
import { isKurError } from '../../src/util/errors.js';

/** What kur leaves on an engine, read back through the API, to check deletes and leaks. */

/** The shared network every kur cluster joins (src/cluster/node-spec.ts). */
export const kurNetwork = 'kur';

export function ignoreNotFound(error: unknown): void {
  if (!isKurError(error, 'notFound')) throw error;
}

/** Everything on the engine labelled dev.kur.cluster=<name>, described; empty when the cluster is gone. */
export async function clusterObjects(engine: Engine, name: string): Promise<string[]> {
  const filter = { [labels.cluster]: name };
  const [containers, networks, volumes] = await Promise.all([
    engine.containers.list({ labels: filter }),
    engine.networks.list({ labels: filter }),
    engine.volumes.list({ labels: filter }),
  ]);
  return [
    ...containers.map((c) => `container ${c.name} (${c.state})`),
    ...networks.map((n) => `network ${n.name}`),
    ...volumes.map((v) => `volume ${v.name}`),
  ];
}

/**
 * The volumes mounted in a cluster's containers (the nodes' /var). Podman cannot label the
 * anonymous volumes a container creates, so leaks are checked by name, not only by label.
 */
export async function clusterVolumeNames(engine: Engine, name: string): Promise<string[]> {
  const containers = await engine.containers.list({ labels: { [labels.cluster]: name } });
  const names: string[] = [];
  for (const c of containers) {
    const info = await engine.containers.inspect(c.id).catch(() => undefined);
    for (const m of info?.mounts ?? []) if (m.type === 'volume' && m.name !== '') names.push(m.name);
  }
  return names.sort();
}

/** Which of these volumes still exist. */
export async function remainingVolumes(engine: Engine, names: string[]): Promise<string[]> {
  const remaining: string[] = [];
  for (const volume of names) {
    try {
      await engine.volumes.inspect(volume);
      remaining.push(volume);
    } catch (error) {
      if (!isKurError(error, 'notFound')) throw error;
    }
  }
  return remaining;
}

/** Whether the shared `kur` network exists. */
export async function kurNetworkExists(engine: Engine): Promise<boolean> {
  try {
    await engine.networks.inspect(kurNetwork);
    return true;
  } catch (error) {
    if (isKurError(error, 'notFound')) return false;
    throw error;
  }
}

/** Names of all kur clusters on the engine, from container labels (other suites' too). */
export async function clustersOnEngine(engine: Engine): Promise<string[]> {
  const found = await engine.containers.list({ labels: { [labels.cluster]: true } });
  return [...new Set(found.map((c) => c.labels[labels.cluster] ?? ''))].filter((n) => n !== '').sort();
}
