import { promises as fs } from 'node:fs';
import type { ClusterConfig } from '../config/types.js';
import type { Engine } from '../engine/types.js';
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
    ensureImage: (reference, step) => ensureImage(options.engine, reference, step),
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

async function ensureImage(engine: Engine, reference: string, _step: StepContext): Promise<void> {
  try {
    await engine.images.inspect(reference);
  } catch (error) {
    if (!isKurError(error, 'notFound')) throw error;
    throw new KurError('preflight', `node image ${reference} is not on the engine`, {
      hint: 'Build it with `kur build node-image`.',
    });
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await fs.stat(path);
    return true;
  } catch {
    return false;
  }
}
