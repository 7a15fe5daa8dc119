import { labels } from '../../src/engine/labels.js';
import type { Engine } from '../../src/engine/types.js';
import { isKurError } from '../../src/util/errors.js';

/** Labels that mark objects a test run (or a kur probe) created. */
const markers = [labels.test, labels.managed];

/** Removes every container, network, volume and image a test or probe left on the engine. */
export async function removeTestObjects(engine: Engine): Promise<void> {
  const ignoreMissing = (error: unknown): void => {
    if (!isKurError(error, 'notFound')) throw error;
  };
  for (const marker of markers) {
    const filter = { [marker]: true as const };
    for (const c of await engine.containers.list({ labels: filter })) {
      await engine.containers.remove(c.id, { force: true, volumes: true }).catch(ignoreMissing);
    }
    for (const n of await engine.networks.list({ labels: filter })) {
      await engine.networks.remove(n.id).catch(ignoreMissing);
    }
    for (const v of await engine.volumes.list({ labels: filter })) {
      await engine.volumes.remove(v.name, { force: true }).catch(ignoreMissing);
    }
    for (const i of await engine.images.list({ labels: filter })) {
      await engine.images.remove(i.id, { force: true }).catch(ignoreMissing);
    }
  }
}

/** Descriptions of objects that still carry a test or probe label; empty when the run was clean. */
export async function leftovers(engine: Engine): Promise<string[]> {
  const found: string[] = [];
  for (const marker of markers) {
    const filter = { [marker]: true as const };
    for (const c of await engine.containers.list({ labels: filter }))
      found.push(`container ${c.name} (${marker})`);
    for (const n of await engine.networks.list({ labels: filter }))
      found.push(`network ${n.name} (${marker})`);
    for (const v of await engine.volumes.list({ labels: filter })) found.push(`volume ${v.name} (${marker})`);
    for (const i of await engine.images.list({ labels: filter })) {
      found.push(`image ${i.repoTags.join(',') || i.id} (${marker})`);
    }
  }
  return found;
}
