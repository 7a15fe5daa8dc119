import { promises as fs } from 'node:fs';
import { runSteps } from '../ui/progress.js';
import { KurError, isKurError, messageOf } from '../util/errors.js';
import { baseRootfsPhase } from './phases/base-rootfs.js';
import { checkToolsPhase } from './phases/check-tools.js';
import { componentsPhase } from './phases/components.js';
import { imagePhase, type WithImage } from './phases/image.js';
import { resolveInputs, type BuildInputs, type BuildNodeImageOptions } from './phases/inputs.js';
import { nodeLayersPhase } from './phases/node-layers.js';
import { Pipeline, type StateOf } from '../ui/phases.js';
import { withHeartbeat } from './phases/heartbeat.js';
import { preloadPhase } from './phases/preload.js';
import type { BuiltNodeImage } from './types.js';

export type { BuildNodeImageOptions } from './phases/inputs.js';
export type { BinarySource, BuiltNodeImage, ComponentRecord, NodeImageManifest } from './types.js';
export { baseRootfsStepId } from './phases/base-rootfs.js';
export { checkToolsStepId } from './phases/check-tools.js';
export { componentsStepId } from './phases/components.js';
export { imageStepId } from './phases/image.js';
export { nodeLayersStepId } from './phases/node-layers.js';
export { preloadStepId } from './phases/preload.js';

/**
 * `kur build node-image`: a Kubernetes node image from pinned sources, with no registry and no
 * Dockerfile. Four layers, bottom up: the Debian base (mmdebstrap), Kubernetes and its
 * companions, the preloaded container images (a containerd root written by kur-preload), and
 * kur's own files (entrypoint, units, the component manifest). Every layer is deterministic, so
 * the same inputs give the same image ID; every expensive input is cached.
 */
export const buildPhases = Pipeline.start<BuildInputs>()
  .then(checkToolsPhase) //  Go, for every source (kur's own programs are built with it)
  .then(baseRootfsPhase) //  Debian base tarball (mmdebstrap)
  .then(componentsPhase) //  Kubernetes and companions: Go build, release or local binaries
  .then(preloadPhase) //     containerd root holding the preloaded images
  .then(nodeLayersPhase) //  binaries layer, files layer with the manifest
  .then(imagePhase); //      archive into the engine and/or a file

export async function buildNodeImage(options: BuildNodeImageOptions): Promise<BuiltNodeImage> {
  const inputs = resolveInputs(options);
  const state = {};
  // A long phase repeats its latest status, so plain output never goes quiet for long.
  const steps = buildPhases.steps(inputs, state, {
    wrap: (step, run) => withHeartbeat(step, undefined, run),
  });
  try {
    const timings = await runSteps(steps, {
      renderer: options.renderer,
      ...(options.onEvent !== undefined ? { onEvent: options.onEvent } : {}),
      ...(options.signal !== undefined ? { signal: options.signal } : {}),
    });
    const { imageId, manifest, layers, sizeBytes } = await summary(state as StateOf<typeof buildPhases>);
    const loaded = inputs.engine !== undefined;
    return { image: inputs.image, imageId, manifest, layers, sizeBytes, loaded, timings };
  } catch (error) {
    if (isKurError(error)) throw error;
    throw new KurError('build', `building node image ${inputs.image} failed: ${messageOf(error)}`, {
      cause: error,
    });
  } finally {
    await fs.rm(inputs.filesLayer, { force: true });
  }
}

/** Layer names, in the image's order, as `kur build node-image` reports them. */
const layerNames = ['base', 'kubernetes', 'preloaded-images', 'files'] as const;

async function summary(
  built: WithImage,
): Promise<Pick<BuiltNodeImage, 'imageId' | 'manifest' | 'layers' | 'sizeBytes'>> {
  const { base, kubernetes, preloadedImages, files } = built.layers;
  const paths = [base, kubernetes, preloadedImages, files];
  const sizes = await Promise.all(paths.map(async (p) => (await fs.stat(p)).size));
  return {
    imageId: built.archive.imageId,
    manifest: built.manifest,
    layers: layerNames.map((name, i) => ({
      name,
      diffId: built.archive.diffIds[i] ?? '',
      sizeBytes: sizes[i] ?? 0,
    })),
    sizeBytes: sizes.reduce((a, b) => a + b, 0),
  };
}
