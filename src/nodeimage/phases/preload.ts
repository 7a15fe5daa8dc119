import { buildPreloadLayer, type PreloadResult } from '../container-images.js';
import { KurError } from '../../util/errors.js';
import type { WithBinaries } from './components.js';
import type { Phase } from '../../ui/phases.js';
import type { BuildInputs } from './inputs.js';

export const preloadStepId = 'node-image.preload';

export interface WithPreload extends WithBinaries {
  preload: PreloadResult;
}

/** The container images a cluster needs, written into a containerd root by kur-preload. */
export const preloadPhase: Phase<BuildInputs, WithBinaries, WithPreload> = {
  id: preloadStepId,
  title: () => 'Preloaded container images (kur-preload)',
  run: async (built, { manifest, cacheDir, arch, signal }) => {
    const preloadTool = built.tools.get('kur-preload');
    if (preloadTool === undefined) throw new KurError('build', 'kur-preload was not built');
    const preload = await buildPreloadLayer({
      manifest,
      binaries: built.binaries,
      baseRootfs: built.base,
      preloadTool,
      cacheDir,
      arch,
      ...(signal !== undefined ? { signal } : {}),
    });
    return { ...built, preload };
  },
};
