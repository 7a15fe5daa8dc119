import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Engine } from '../../engine/types.js';
import { loadComponents, loadRegistryComponent } from '../../nodeimage/components.js';
import { buildComponent, findGo } from '../../nodeimage/go-build.js';
import { withParents, writeLayerTar } from '../../nodeimage/layer-tar.js';
import { cacheKey, cacheRoot } from '../../util/cache.js';
import { isKurError } from '../../util/errors.js';
import { imageArchiveStream } from '../../util/image-archive.js';
import type { Logger } from '../../util/logger.js';
import { registryConfigYaml, registryContainerPort, registryPaths } from './spec.js';

/**
 * The registry image: Distribution's `registry` binary, built with Go from the version pinned in
 * images/registry.json, plus kur's config, assembled and loaded through the API
 * like the node image: nothing is pulled. Built on demand by `kur create registry` and kept on
 * the engine; the binary is cached with the other Go builds.
 */
export interface RegistryImageOptions {
  engine: Engine;
  logger: Logger;
  env: NodeJS.ProcessEnv;
  cacheDir?: string;
  onStatus?: (text: string) => void;
  signal?: AbortSignal;
}

/** Label on the image: a digest of what it is made from, so a changed recipe builds a new one. */
const recipeLabel = 'dev.kur.registry-recipe';

export function registryImageName(): string {
  return loadRegistryComponent().image;
}

/**
 * The image's config but its recipe label. No `dev.kur.managed`: that label marks kur's
 * throwaway objects (probes, the lock), and this image is kept, like the node image.
 */
function imageConfig(architecture: string) {
  return {
    architecture,
    entrypoint: [registryPaths.binary],
    cmd: ['serve', registryPaths.config],
    env: ['OTEL_TRACES_EXPORTER=none'],
    exposedPorts: [`${registryContainerPort}/tcp`],
    volumes: [registryPaths.data],
    stopSignal: 'SIGTERM',
  };
}

function recipe(): string {
  const registry = loadRegistryComponent();
  const { goBuild } = loadComponents();
  const config = imageConfig(goBuild.env.GOARCH ?? 'amd64');
  return cacheKey(
    JSON.stringify(registry),
    JSON.stringify(goBuild),
    registryConfigYaml,
    JSON.stringify(config),
  ).slice(0, 16);
}

/** The registry image's name, built and loaded when the engine lacks it (or has an older recipe's). */
export async function ensureRegistryImage(options: RegistryImageOptions): Promise<string> {
  const { engine, logger } = options;
  const manifest = loadComponents();
  const registry = loadRegistryComponent();
  const name = registry.image;
  const want = recipe();
  let replaced: string | undefined;
  try {
    const info = await engine.images.inspect(name);
    if (info.labels[recipeLabel] === want) return name;
    logger.debug(`${name} on the engine is from another recipe; building it again`);
    replaced = info.id;
  } catch (error) {
    if (!isKurError(error, 'notFound')) throw error;
  }
  options.onStatus?.(`building ${name} (go build of distribution ${registry.version})`);
  const cacheDir = options.cacheDir ?? cacheRoot(options.env);
  const built = await buildComponent(registry, {
    manifest,
    toolchain: await findGo(options.env),
    cacheDir,
    env: options.env,
    logger,
    ...(options.onStatus !== undefined ? { onStatus: options.onStatus } : {}),
    ...(options.signal !== undefined ? { signal: options.signal } : {}),
  });
  const binary = built.binaries.get('registry');
  if (binary === undefined) throw new Error('the registry build produced no registry binary');
  const work = await fs.mkdtemp(join(tmpdir(), 'kur-registry-'));
  try {
    const layer = join(work, 'layer.tar');
    await writeLayerTar(
      layer,
      withParents([
        { type: 'file', path: registryPaths.binary, source: binary, mode: 0o755 },
        { type: 'data', path: registryPaths.config, content: registryConfigYaml, mode: 0o644 },
        { type: 'directory', path: registryPaths.data, mode: 0o755 },
        { type: 'directory', path: 'tmp', mode: 0o1777 },
      ]),
    );
    options.onStatus?.(`loading ${name} into the engine`);
    const { stream, result } = imageArchiveStream({
      repoTags: [name],
      config: {
        ...imageConfig(manifest.goBuild.env.GOARCH ?? 'amd64'),
        labels: { [recipeLabel]: want },
      },
      layers: [{ path: layer, comment: `distribution ${registry.version} (kur)` }],
      tmpDir: work,
    });
    await Promise.all([engine.images.load(stream), result]);
  } finally {
    await fs.rm(work, { recursive: true, force: true });
  }
  logger.debug(`loaded ${name}`);
  // The older recipe's image lost its name to the new one; a registry still running on it keeps it.
  if (replaced !== undefined) {
    await engine.images.remove(replaced).catch((error: unknown) => {
      logger.debug(`kept the replaced ${name} (${replaced}): ${String(error)}`);
    });
  }
  return name;
}
