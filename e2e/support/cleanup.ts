import { labels } from '../../src/engine/labels.js';
import type { Engine, LabelFilter } from '../../src/engine/types.js';
import { isKurError } from '../../src/util/errors.js';

/**
 * Label of one test run. Test objects carry dev.kur.test=true (the team's shared marker) and this
 * label too, so a run cleans and checks only what it created: other suites may be using the same
 * engines at the same time on a shared machine.
 */
export const testRunLabel = 'dev.kur.test-run';

export function testLabels(run: string): Record<string, string> {
  return { [labels.test]: 'true', [testRunLabel]: run };
}

async function objectsWith(engine: Engine, filter: LabelFilter) {
  const [containers, networks, volumes, images] = await Promise.all([
    engine.containers.list({ labels: filter }),
    engine.networks.list({ labels: filter }),
    engine.volumes.list({ labels: filter }),
    engine.images.list({ labels: filter }),
  ]);
  return { containers, networks, volumes, images };
}

/** Removes every container, network, volume and image of the test run. */
export async function removeTestObjects(engine: Engine, run: string): Promise<void> {
  const ignoreMissing = (error: unknown): void => {
    if (!isKurError(error, 'notFound')) throw error;
  };
  const found = await objectsWith(engine, { [testRunLabel]: run });
  for (const c of found.containers)
    await engine.containers.remove(c.id, { force: true, volumes: true }).catch(ignoreMissing);
  for (const n of found.networks) await engine.networks.remove(n.id).catch(ignoreMissing);
  for (const v of found.volumes) await engine.volumes.remove(v.name, { force: true }).catch(ignoreMissing);
  for (const i of found.images) await engine.images.remove(i.id, { force: true }).catch(ignoreMissing);
}

/**
 * What the run left behind, plus any kur probe container or image (probes remove their own; one
 * still there after a few seconds leaked). Empty when everything was cleaned up. The shared
 * cluster network also carries the managed label but rightly stays while any cluster (a user's,
 * another suite's) exists, so networks and volumes count only when they belong to this run.
 */
export async function leftovers(engine: Engine, run: string): Promise<string[]> {
  const describe = (found: Awaited<ReturnType<typeof objectsWith>>, why: string): string[] => [
    ...found.containers.map((c) => `container ${c.name} (${why})`),
    ...found.networks.map((n) => `network ${n.name} (${why})`),
    ...found.volumes.map((v) => `volume ${v.name} (${why})`),
    ...found.images.map((i) => `image ${i.repoTags.join(',') || i.id} (${why})`),
  ];
  const ours = describe(await objectsWith(engine, { [testRunLabel]: run }), `test run ${run}`);
  const probeObjects = async (): Promise<string[]> => {
    const { containers, images } = await objectsWith(engine, { [labels.managed]: true });
    return describe({ containers, images, networks: [], volumes: [] }, labels.managed);
  };
  let probes = await probeObjects();
  if (probes.length > 0) {
    // Another kur process on this engine may be probing right now; its objects go within seconds.
    await new Promise((resolve) => setTimeout(resolve, 10_000));
    probes = await probeObjects();
  }
  return [...ours, ...probes];
}
