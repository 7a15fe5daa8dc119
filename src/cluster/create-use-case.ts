import { promises as fs } from 'node:fs';
import type { ClusterConfig } from '../config/types.js';
import type { Engine } from '../engine/types.js';
import { buildNodeImage } from '../nodeimage/build.js';
import { defaultNodeImage } from '../nodeimage/defaults.js';
import type { ProgressListener, RendererKind, StepContext } from '../ui/progress.js';
import { isKurError, KurError } from '../util/errors.js';
import type { Logger } from '../util/logger.js';
import { createCluster, type CreatedCluster } from './create.js';

export interface CreateUseCaseOptions {
  engine: Engine;
  config: ClusterConfig;
  /** Node image; default kur's image for the pinned Kubernetes version, built when missing. */
  image?: string;
  waitMs: number;
  retain: boolean;
  kubeconfigPath: string | undefined;
  logger: Logger;
  renderer: RendererKind;
  onEvent?: ProgressListener;
  signal?: AbortSignal;
  env: NodeJS.ProcessEnv;
}

/** `kur create cluster`: picks the node image and host facts, then creates. */
export async function createClusterWithEngine(options: CreateUseCaseOptions): Promise<CreatedCluster> {
  const image = options.image ?? defaultNodeImage();
  const local = options.engine.endpoint.connection.kind === 'unix';
  return createCluster({
    engine: options.engine,
    config: options.config,
    logger: options.logger,
    image,
    ensureImage: (reference, step) => ensureImage(options, reference, step),
    waitMs: options.waitMs,
    retain: options.retain,
    kubeconfigPath: options.kubeconfigPath,
    renderer: options.renderer,
    ...(options.onEvent !== undefined ? { onEvent: options.onEvent } : {}),
    ...(options.signal !== undefined ? { signal: options.signal } : {}),
    // Only a local engine's host is this host; a remote one's /lib/modules is unknown, so skip it.
    host: {
      hasLibModules: local && (await exists('/lib/modules')),
      // A remote engine's devices are unknown: ask, and let the engine say if it is missing.
      hasDevFuse: !local || (await exists('/dev/fuse')),
    },
  });
}

/** The default node image is built when the engine lacks it; any other image must exist. */
async function ensureImage(
  options: CreateUseCaseOptions,
  reference: string,
  step: StepContext,
): Promise<void> {
  try {
    await options.engine.images.inspect(reference);
    return;
  } catch (error) {
    if (!isKurError(error, 'notFound')) throw error;
  }
  if (reference !== defaultNodeImage()) {
    throw new KurError('preflight', `node image ${reference} is not on the engine`, {
      hint: 'Build it with `kur build node-image --image <name>`, or load it into the engine.',
    });
  }
  options.logger.info(
    `Node image ${reference} is not on the engine: building it (cached after the first time).`,
  );
  await buildNodeImage({
    logger: options.logger,
    engine: options.engine,
    image: reference,
    // The create's own progress shows the build's phases as its status line.
    renderer: 'silent',
    onEvent: (event) => {
      if (event.type === 'start') step.status(`building ${reference}: ${event.path.join(' > ')}`);
      if (event.type === 'status') step.status(`building ${reference}: ${event.text}`);
    },
    ...(options.signal !== undefined ? { signal: options.signal } : {}),
    env: options.env,
  });
}

async function exists(path: string): Promise<boolean> {
  try {
    await fs.stat(path);
    return true;
  } catch {
    return false;
  }
}
