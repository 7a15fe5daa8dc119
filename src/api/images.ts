import { loadDockerImages, loadImageArchive, type LoadResult } from '../cluster/load.js';
import {
  buildNodeImage as buildNodeImageCore,
  type BinarySource,
  type BuiltNodeImage,
} from '../nodeimage/build.js';
import { pushNodeImage } from '../nodeimage/push.js';
import { KurError } from '../util/errors.js';
import { target, type ClusterOptions } from './clusters.js';
import {
  callEnv,
  callLogger,
  progressListener,
  silent,
  throwIfCancelled,
  withEngine,
  type EngineOptions,
  type Presentation,
  type ProgressOptions,
} from './common.js';

interface LoadImageCommon extends ClusterOptions {
  /** Node names to load into. Default: every node of the cluster. */
  nodes?: string[];
}

/**
 * What to load: `images` from the engine's own image store (`kur load docker-image`), or an
 * `archive` file, a docker-archive or OCI tar (`kur load image-archive`).
 */
export type LoadImageOptions = LoadImageCommon &
  (
    | {
        /** Image references on the engine, e.g. `['my-app:dev']`. */
        images: string[];
        archive?: undefined;
      }
    | {
        /** Path of a `docker save` / OCI layout tar. */
        archive: string;
        images?: undefined;
      }
  );

/**
 * Imports images into every node's containerd (or `nodes`), through the engine API, with no
 * registry; pods can then use them with `imagePullPolicy: Never` or `IfNotPresent`.
 */
export function loadImage(options: LoadImageOptions): Promise<LoadResult> {
  const { name, engine } = target(options.cluster, options);
  const images = options.images;
  const archive = options.archive;
  if ((images === undefined) === (archive === undefined)) {
    return Promise.reject(
      new KurError('usage', 'loadImage: give either images or archive', {
        hint: "images: ['name:tag', ...] takes images from the engine; archive: 'file.tar' reads a tar.",
      }),
    );
  }
  return withEngine(engine, (e) => {
    const common = {
      engine: e,
      logger: callLogger(options),
      cluster: name,
      ...(options.nodes !== undefined ? { nodes: options.nodes } : {}),
    };
    return images !== undefined
      ? loadDockerImages({ ...common, images })
      : loadImageArchive({ ...common, archive: archive! });
  });
}

export interface BuildNodeImageOptions extends EngineOptions, ProgressOptions {
  /** Image name. Default `kur.local/node:<kubernetes version>`, the name `createCluster` looks for. */
  image?: string;
  /** Must be the version this kur pins (the default); other versions need other pins. */
  kubernetesVersion?: string;
  /**
   * Where Kubernetes and its companions come from: `'go'` (built from pinned sources with the Go
   * module proxy, the default), `'release'` (pinned release downloads) or `'local'` (`binaries`).
   */
  source?: BinarySource;
  /** Release source: fetch `https://<host>/<path>` from `<mirror>/<host>/<path>`. */
  mirror?: string;
  /** Local source: a directory or `.tar(.gz)` of binaries. */
  binaries?: string;
  /** Also write the image as a docker-archive tar to this file. */
  archive?: string;
  /** Load the image into the engine. Default true; `false` needs `archive`. */
  load?: boolean;
  /** Also push the image to this registry reference (`host[:port]/name:tag`) through the engine. */
  push?: string;
  /** Cancels the build (finished, cached steps stay cached). */
  signal?: AbortSignal;
}

/**
 * Builds kur's node image from pinned sources with no registry, like `kur build node-image`, and
 * loads it into the engine. Needs Go and mmdebstrap on this machine; the first build takes
 * minutes, later ones reuse `${XDG_CACHE_HOME:-~/.cache}/kur`.
 */
export function buildNodeImage(options: BuildNodeImageOptions = {}): Promise<BuiltNodeImage> {
  return buildNodeImageWith(options, silent);
}

/** `buildNodeImage` with the caller's choice of progress display (the CLI's renderer). */
export async function buildNodeImageWith(
  options: BuildNodeImageOptions,
  presentation: Presentation,
): Promise<BuiltNodeImage> {
  const load = options.load ?? true;
  if (!load && options.archive === undefined) {
    throw new KurError('usage', 'buildNodeImage: load: false needs archive (the image would go nowhere)');
  }
  if (!load && options.push !== undefined) {
    throw new KurError('usage', 'buildNodeImage: push needs the image loaded into the engine (load: true)');
  }
  throwIfCancelled(options.signal, 'building the node image');
  const onEvent = progressListener(options);
  const build = (engine: Parameters<typeof buildNodeImageCore>[0]['engine']) =>
    buildNodeImageCore({
      logger: callLogger(options),
      engine,
      ...(options.image !== undefined ? { image: options.image } : {}),
      ...(options.kubernetesVersion !== undefined ? { kubernetesVersion: options.kubernetesVersion } : {}),
      ...(options.archive !== undefined ? { archivePath: options.archive } : {}),
      ...(options.source !== undefined ? { source: options.source } : {}),
      ...(options.mirror !== undefined ? { mirror: options.mirror } : {}),
      ...(options.binaries !== undefined ? { localPath: options.binaries } : {}),
      renderer: presentation.renderer,
      ...(onEvent !== undefined ? { onEvent } : {}),
      ...(options.signal !== undefined ? { signal: options.signal } : {}),
      env: callEnv(options),
    });
  if (!load) return build(undefined);
  return withEngine(options, async (engine) => {
    const built = await build(engine);
    if (options.push === undefined) return built;
    const pushed = await pushNodeImage({
      engine,
      image: built.image,
      reference: options.push,
      renderer: presentation.renderer,
      ...(onEvent !== undefined ? { onEvent } : {}),
      ...(options.signal !== undefined ? { signal: options.signal } : {}),
    });
    return {
      ...built,
      pushed: { reference: pushed.reference, digest: pushed.digest },
      timings: [...built.timings, ...pushed.timings],
    };
  });
}
