import { promises as fs } from 'node:fs';
import type { ClusterConfig } from '../config/types.js';
import type { Engine } from '../engine/types.js';
import { buildNodeImage } from '../nodeimage/build.js';
import { defaultNodeImage } from '../nodeimage/defaults.js';
import type { ProgressListener, RendererKind, StepContext } from '../ui/progress.js';
import { isKurError, KurError, messageOf } from '../util/errors.js';
import { formatTransfer } from '../engine/transfer-progress.js';
import {
  isRegistryReference,
  loadPublishedDigests,
  nodeImageRegistryEnv,
  publishedSource,
  type PublishedDigests,
} from '../nodeimage/published.js';
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

/**
 * A node image the engine lacks comes, in this order, from: the registry its reference names
 * (pulled through the engine, with progress); for the default image, the registry named by
 * KUR_NODE_IMAGE_REGISTRY, by the digest kur pins for its recipe; else kur builds it. Each step
 * says why it moved on. Any other image must exist.
 */
export async function ensureImage(
  options: Pick<CreateUseCaseOptions, 'engine' | 'logger' | 'signal' | 'env'>,
  reference: string,
  step: StepContext,
  sources: ImageSources = { published: loadPublishedDigests(), build: buildNodeImage },
): Promise<void> {
  const { engine, logger } = options;
  try {
    await engine.images.inspect(reference);
    return;
  } catch (error) {
    if (!isKurError(error, 'notFound')) throw error;
  }
  if (isRegistryReference(reference)) {
    await pullNodeImage(options, reference, step);
    return;
  }
  if (reference !== defaultNodeImage()) {
    throw new KurError('preflight', `node image ${reference} is not on the engine`, {
      hint: 'Build it with `kur build node-image --image <name>`, load it into the engine, or name a registry reference (host[:port]/name:tag or @sha256:…) to pull.',
    });
  }
  const source = publishedSource(reference, options.env[nodeImageRegistryEnv], sources.published);
  if ('reference' in source) {
    try {
      await pullNodeImage(options, source.reference, step, publishedFirstReplyMs);
      await engine.images.tag(source.reference, reference);
      return;
    } catch (error) {
      if (isKurError(error, 'cancelled')) throw error;
      logger.warn(`Could not pull ${source.reference} (${messageOf(error)}): building ${reference} instead.`);
    }
  } else {
    logger.info(
      `Node image ${reference} is not on the engine and ${source.reason}: building it (cached after the first time).`,
    );
  }
  await sources.build({
    logger,
    engine,
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

/** Where a missing node image can come from (injected by tests). */
export interface ImageSources {
  /** Published manifest digests by node image tag (images/published.json). */
  published: PublishedDigests;
  build: (options: Parameters<typeof buildNodeImage>[0]) => Promise<unknown>;
}

/** An air-gapped machine waits this long at most for a registry before kur builds instead. */
const publishedFirstReplyMs = 5_000;

async function pullNodeImage(
  options: Pick<CreateUseCaseOptions, 'engine' | 'logger' | 'signal'>,
  reference: string,
  step: StepContext,
  firstReplyTimeoutMs = 60_000,
): Promise<void> {
  options.logger.info(`Pulling node image ${reference} through the engine.`);
  step.status(`pulling ${reference}`);
  await options.engine.images.pull(reference, {
    onProgress: (p) => step.status(`pulling ${reference}: ${formatTransfer(p)}`),
    firstReplyTimeoutMs,
    ...(options.signal !== undefined ? { signal: options.signal } : {}),
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
