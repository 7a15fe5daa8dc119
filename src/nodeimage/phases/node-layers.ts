import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { kurRuncPath, loadBalancerBinary, nodePaths } from '../../node/layout.js';
import { cachedEntry, cacheKey } from '../../util/cache.js';
import { imagesDir, type ComponentsManifest } from '../components.js';
import { binaryEntries } from '../container-images.js';
import { directoryEntries, sortEntries, withParents, writeLayerTar, type LayerEntry } from '../layer-tar.js';
import type { NodeImageManifest } from '../types.js';
import type { Phase } from '../../ui/phases.js';
import type { BuildInputs } from './inputs.js';
import type { WithPreload } from './preload.js';

export const nodeLayersStepId = 'node-image.node-layers';

/** The image's four layers, bottom up, and the manifest recorded in the top one. */
export interface NodeLayers {
  layers: { base: string; kubernetes: string; preloadedImages: string; files: string };
  manifest: NodeImageManifest;
}

/** The binaries layer (cached by content) and the files layer (kur's node files + manifest). */
export const nodeLayersPhase: Phase<BuildInputs, WithPreload, NodeLayers> = {
  id: nodeLayersStepId,
  title: () => 'Node layers',
  run: async (built, { manifest: components, version, arch, work, filesLayer }) => {
    await fs.mkdir(work, { recursive: true });
    const kubernetes = await binariesLayer(components, new Map([...built.binaries, ...built.tools]), work);
    const manifest: NodeImageManifest = {
      kubernetes: version,
      arch,
      base: {
        suite: 'bookworm',
        sources: built.base.sources,
        packages: built.base.packages.length,
        sha256: built.base.sha256,
        sizeBytes: built.base.sizeBytes,
      },
      components: built.components,
      preloadedImages: built.preload.images,
    };
    await writeLayerTar(filesLayer, await filesLayerEntries(manifest));
    const layers = {
      base: built.base.path,
      kubernetes,
      preloadedImages: built.preload.layer,
      files: filesLayer,
    };
    return { layers, manifest };
  },
};

async function binariesLayer(
  manifest: ComponentsManifest,
  binaries: Map<string, string>,
  work: string,
): Promise<string> {
  // kur's own node-side programs ride along: the HA load balancer and degraded mode's runc wrapper.
  const list = binaryEntries(manifest, binaries, [
    ...Object.entries(manifest.nodeBinaries),
    [loadBalancerBinary, 'kur-lb'],
    [kurRuncPath, 'kur-runc'],
  ]);
  const path = join(work, `node-binaries-${cacheKey(JSON.stringify(list))}.tar`);
  await cachedEntry(path, (temp) => writeLayerTar(temp, list));
  return path;
}

async function filesLayerEntries(manifest: NodeImageManifest): Promise<LayerEntry[]> {
  const files = await directoryEntries(join(imagesDir, 'node'));
  // images/node/README.md documents the directory; it is not a node file.
  const kept = files.filter((e) => e.path !== 'README.md');
  kept.push({
    type: 'data',
    path: nodePaths.manifest.slice(1),
    content: `${JSON.stringify(manifest, null, 2)}\n`,
    mode: 0o644,
  });
  return sortEntries(withParents(kept));
}
