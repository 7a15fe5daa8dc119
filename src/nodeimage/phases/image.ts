import { promises as fs } from 'node:fs';
import { entrypointPath } from '../../node/layout.js';
import { KurError } from '../../util/errors.js';
import {
  imageArchiveStream,
  type ImageArchiveResult,
  type ImageArchiveSpec,
} from '../../util/image-archive.js';
import { nodeImageLabels } from '../image-labels.js';
import type { BuildInputs } from './inputs.js';
import type { NodeLayers } from './node-layers.js';
import type { Phase } from '../../ui/phases.js';

export const imageStepId = 'node-image.image';

export interface WithImage extends NodeLayers {
  archive: ImageArchiveResult;
}

/** The image archive, streamed into the engine and/or written to `archivePath`. */
export const imagePhase: Phase<BuildInputs, NodeLayers, WithImage> = {
  id: imageStepId,
  title: ({ engine, image }) =>
    engine === undefined ? 'Write the image archive' : `Load ${image} into the engine`,
  run: async (built, inputs, step) => {
    const { engine, archivePath, logger } = inputs;
    const spec = imageSpec(built, inputs);
    let archive: ImageArchiveResult | undefined;
    if (archivePath !== undefined) {
      step.status(`writing ${archivePath}`);
      const { stream, result } = imageArchiveStream(spec);
      await fs.writeFile(archivePath, stream);
      archive = await result;
    }
    if (engine !== undefined) {
      step.status('streaming the image archive to the engine');
      const { stream, result } = imageArchiveStream(spec);
      const [names] = await Promise.all([engine.images.load(stream), result]);
      archive = await result;
      logger.debug(`engine loaded ${names.join(', ')}`);
    }
    if (archive === undefined)
      throw new KurError('usage', 'the image goes nowhere: no engine and no archive');
    return { ...built, archive };
  },
};

function imageSpec(
  { layers }: NodeLayers,
  { manifest, image, arch, version, work }: BuildInputs,
): ImageArchiveSpec {
  const pause = manifest.images.find((i) => i.name.includes('/pause:'))?.name ?? '';
  const flannel = manifest.images.find((i) => i.name.includes('/flannel:'))?.name ?? '';
  return {
    repoTags: [image],
    config: {
      architecture: arch,
      entrypoint: [entrypointPath],
      cmd: ['/sbin/init'],
      env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
      // systemd halts cleanly on SIGRTMIN+3; SIGTERM would make it re-execute.
      stopSignal: 'SIGRTMIN+3',
      labels: {
        [nodeImageLabels.nodeImage]: 'true',
        [nodeImageLabels.kubernetesVersion]: version,
        [nodeImageLabels.pauseImage]: pause,
        [nodeImageLabels.flannelImage]: flannel,
      },
    },
    layers: [
      { path: layers.base, comment: 'Debian base root filesystem (mmdebstrap)' },
      { path: layers.kubernetes, comment: `Kubernetes ${version} and companions` },
      { path: layers.preloadedImages, comment: 'preloaded container images (containerd root)' },
      { path: layers.files, comment: 'kur node files and component manifest' },
    ],
    tmpDir: work,
  };
}
