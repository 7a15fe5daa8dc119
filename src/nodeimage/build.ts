import { promises as fs } from 'node:fs';
import { arch as hostArch } from 'node:os';
import { join, posix } from 'node:path';
import { execa } from 'execa';
import type { Engine } from '../engine/types.js';
import { entrypointPath, kurRuncPath, loadBalancerBinary, nodePaths } from '../node/layout.js';
import {
  runSteps,
  type ProgressListener,
  type RendererKind,
  type StepContext,
  type StepTiming,
} from '../ui/progress.js';
import { cachedEntry, cacheKey, cacheRoot, sha256File } from '../util/cache.js';
import { KurError, isKurError, messageOf } from '../util/errors.js';
import { imageArchiveStream, type ImageArchiveResult } from '../util/image-archive.js';
import type { Logger } from '../util/logger.js';
import { buildBaseRootfs, type BaseRootfs } from './base-rootfs.js';
import {
  imagesDir,
  loadComponents,
  multiCallName,
  type Component,
  type ComponentsManifest,
} from './components.js';
import { binaryEntries, buildPreloadLayer, type PreloadResult } from './container-images.js';
import { defaultNodeImage } from './defaults.js';
import { buildComponent, findGo, toolComponents, type BuiltComponent, type GoToolchain } from './go-build.js';
import { localComponents, type LocalSource } from './local-source.js';
import { fetchReleaseComponent, type FetchedComponent } from './release-source.js';
import { nodeImageLabels } from './image-labels.js';
import { directoryEntries, sortEntries, withParents, writeLayerTar, type LayerEntry } from './layer-tar.js';

/**
 * `kur build node-image`: a Kubernetes node image from pinned sources, with no registry and no
 * Dockerfile. Four layers, bottom up: the Debian base (mmdebstrap), Kubernetes and its
 * companions, the preloaded container images (a containerd root written by kur-preload), and
 * kur's own files (entrypoint, units, the component manifest). Every layer is deterministic, so
 * the same inputs give the same image ID; every expensive input is cached.
 */
/**
 * Where Kubernetes and its companions come from: compiled from the Go module proxy (offline),
 * downloaded official releases (verified against their published checksums), or binaries the
 * user already has. kur's own small programs (pause, the flannel CNI plugin, kur-preload, kur-lb,
 * kur-runc) and components with no verifiable release are always built with Go.
 */
export type BinarySource = 'go' | 'release' | 'local';

export interface BuildNodeImageOptions {
  logger: Logger;
  /** The engine to load the image into; undefined builds the archive only (see `archivePath`). */
  engine: Engine | undefined;
  /** Default: `kur.local/node:<kubernetes version>`. */
  image?: string;
  /** Must match images/components.json for the Go path (other versions need other pins). */
  kubernetesVersion?: string;
  source?: BinarySource;
  /** Release path: fetch `https://<host>/<path>` from `<mirror>/<host>/<path>` instead. */
  mirror?: string;
  /** Local path: a directory or tarball of binaries named as images/components.json names them. */
  localPath?: string;
  /** Also (or only) write the image archive here. */
  archivePath?: string;
  renderer: RendererKind;
  onEvent?: ProgressListener;
  signal?: AbortSignal;
  env?: NodeJS.ProcessEnv;
  /** Overrides for tests. */
  manifest?: ComponentsManifest;
  cacheDir?: string;
}

export interface ComponentRecord {
  name: string;
  version: string;
  source: string;
  license: string | undefined;
  files: { path: string; sha256: string; size: number }[];
}

/**
 * /etc/kur/manifest.json in the image, and what `kur build node-image` prints. It holds no image
 * name: a tag is not part of the content, and the same inputs must give the same image ID
 * whatever the image is called.
 */
export interface NodeImageManifest {
  kubernetes: string;
  arch: string;
  base: {
    suite: string;
    sources: string[]; /** Packages the recipe lists (images/base/packages.txt); the essential set comes on top. */
    packages: number;
    sha256: string;
    sizeBytes: number;
  };
  components: ComponentRecord[];
  preloadedImages: { name: string; id: string }[];
}

export interface BuiltNodeImage {
  image: string;
  imageId: string;
  manifest: NodeImageManifest;
  layers: { name: string; diffId: string; sizeBytes: number }[];
  sizeBytes: number;
  loaded: boolean;
  timings: StepTiming[];
}

interface BuildState {
  toolchain?: GoToolchain;
  base?: BaseRootfs;
  binaries: Map<string, string>;
  tools: Map<string, string>;
  components: ComponentRecord[];
  preload?: PreloadResult;
  binariesLayer?: string;
  filesLayer?: string;
  archive?: ImageArchiveResult;
  manifest?: NodeImageManifest;
}

const goArch: Record<string, string> = { x64: 'amd64', arm64: 'arm64' };

const sourceTitle: Record<BinarySource, string> = {
  go: 'go build',
  release: 'release downloads',
  local: 'local binaries',
};

/**
 * Components always built with Go whatever the source: kur's own (no upstream release exists)
 * and Flannel, whose release publishes no checksum and lacks the install-conf its image needs.
 */
const goOnlyComponents = ['pause', 'flannel-cni', 'flannel'];

export async function buildNodeImage(options: BuildNodeImageOptions): Promise<BuiltNodeImage> {
  const env = options.env ?? process.env;
  const manifest = options.manifest ?? loadComponents();
  const version = options.kubernetesVersion ?? manifest.kubernetes;
  if (version !== manifest.kubernetes) {
    throw new KurError('usage', `this kur pins Kubernetes ${manifest.kubernetes}; ${version} is not pinned`, {
      hint: `Build ${manifest.kubernetes} (the default), or change images/components.json and the Go modules under images/go.`,
    });
  }
  // The pinned version is the only one: its default name carries the recipe digest, as create expects.
  const image = options.image ?? defaultNodeImage();
  const arch = goArch[hostArch()] ?? hostArch();
  if (arch !== 'amd64') {
    throw new KurError(
      'build',
      `building node images on ${arch} is not supported yet (components.json pins linux/amd64)`,
    );
  }
  const cacheDir = options.cacheDir ?? cacheRoot(env);
  const work = join(cacheDir, 'layers');
  const state: BuildState = { binaries: new Map(), tools: new Map(), components: [] };
  const goOptions = (step: StepContext) => ({
    manifest,
    toolchain: state.toolchain!,
    cacheDir,
    env,
    logger: options.logger,
    onStatus: (text: string) => step.status(text),
    ...(options.signal !== undefined ? { signal: options.signal } : {}),
  });

  const source = options.source ?? 'go';
  if (source === 'local' && options.localPath === undefined) {
    throw new KurError('usage', '--source local needs the path of the binaries', {
      hint: 'Pass --binaries <directory or tarball>.',
    });
  }
  const componentBinaries = async (
    component: Component,
    step: StepContext,
    local: LocalSource | undefined,
  ): Promise<BuiltComponent | FetchedComponent> => {
    const release = component.release;
    const verifiable = release !== null && (Boolean(release.sha256) || Boolean(release.sha256Url));
    if (source === 'release' && verifiable && !goOnlyComponents.includes(component.name)) {
      return fetchReleaseComponent(component, {
        cacheDir,
        logger: options.logger,
        ...(options.mirror !== undefined ? { mirror: options.mirror } : {}),
        onStatus: (text) => step.status(text),
        ...(options.signal !== undefined ? { signal: options.signal } : {}),
      });
    }
    const found = local?.components.get(component.name);
    if (found !== undefined) return found;
    return buildComponent(component, goOptions(step));
  };

  const steps = [
    {
      title: 'Check build tools',
      run: async () => {
        state.toolchain = await findGo(env);
        options.logger.debug(`Go: ${state.toolchain.version}`);
      },
    },
    {
      title: 'Debian base root filesystem (mmdebstrap)',
      run: async (step: StepContext) => {
        step.status('mmdebstrap (cached after the first build)');
        state.base = await buildBaseRootfs({ logger: options.logger, env });
      },
    },
    {
      title: `Kubernetes ${version} and companions (${sourceTitle[source]})`,
      run: async (step: StepContext) => {
        const local =
          source === 'local'
            ? await localComponents(manifest, options.localPath!, { cacheDir, exclude: goOnlyComponents })
            : undefined;
        for (const component of manifest.components) {
          const built = await componentBinaries(component, step, local);
          for (const [name, file] of built.binaries) state.binaries.set(name, file);
          const origin =
            'source' in built
              ? built.source
              : local !== undefined && !goOnlyComponents.includes(component.name)
                ? local.source
                : component.source;
          state.components.push(
            await componentRecord(
              component.name,
              component.version,
              origin,
              component.license,
              built.binaries,
            ),
          );
          await verifyVersion(
            manifest,
            component.versionCommand,
            component.versionEnv,
            built.binaries,
            component.version,
            env,
          );
        }
        for (const tool of toolComponents) {
          const built = await buildComponent(tool, goOptions(step));
          for (const [name, file] of built.binaries) state.tools.set(name, file);
        }
      },
    },
    {
      title: 'Preloaded container images (kur-preload)',
      run: async () => {
        state.preload = await buildPreloadLayer({
          manifest,
          binaries: state.binaries,
          baseRootfs: state.base!,
          preloadTool: state.tools.get('kur-preload')!,
          cacheDir,
          arch,
          ...(options.signal !== undefined ? { signal: options.signal } : {}),
        });
      },
    },
    {
      title: 'Node layers',
      run: async () => {
        await fs.mkdir(work, { recursive: true });
        state.binariesLayer = await binariesLayer(manifest, state, work);
        state.manifest = {
          kubernetes: version,
          arch,
          base: {
            suite: 'bookworm',
            sources: state.base!.sources,
            packages: state.base!.packages.length,
            sha256: state.base!.sha256,
            sizeBytes: state.base!.sizeBytes,
          },
          components: state.components,
          preloadedImages: state.preload!.images,
        };
        state.filesLayer = join(work, `files-${process.pid}.tar`);
        await writeLayerTar(state.filesLayer, await filesLayerEntries(state.manifest));
      },
    },
    {
      title: options.engine === undefined ? 'Write the image archive' : `Load ${image} into the engine`,
      run: async (step: StepContext) => {
        const pause = manifest.images.find((i) => i.name.includes('/pause:'))?.name ?? '';
        const flannel = manifest.images.find((i) => i.name.includes('/flannel:'))?.name ?? '';
        const spec = {
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
            { path: state.base!.path, comment: 'Debian base root filesystem (mmdebstrap)' },
            { path: state.binariesLayer!, comment: `Kubernetes ${version} and companions` },
            { path: state.preload!.layer, comment: 'preloaded container images (containerd root)' },
            { path: state.filesLayer!, comment: 'kur node files and component manifest' },
          ],
          tmpDir: work,
        };
        if (options.archivePath !== undefined) {
          step.status(`writing ${options.archivePath}`);
          const { stream, result } = imageArchiveStream(spec);
          await fs.writeFile(options.archivePath, stream);
          state.archive = await result;
        }
        if (options.engine !== undefined) {
          step.status('streaming the image archive to the engine');
          const { stream, result } = imageArchiveStream(spec);
          const [names] = await Promise.all([options.engine.images.load(stream), result]);
          state.archive = await result;
          options.logger.debug(`engine loaded ${names.join(', ')}`);
        }
      },
    },
  ];

  try {
    const timings = await runSteps(steps, {
      renderer: options.renderer,
      ...(options.onEvent !== undefined ? { onEvent: options.onEvent } : {}),
      ...(options.signal !== undefined ? { signal: options.signal } : {}),
    });
    const layerPaths = [state.base!.path, state.binariesLayer!, state.preload!.layer, state.filesLayer!];
    const names = ['base', 'kubernetes', 'preloaded-images', 'files'];
    const sizes = await Promise.all(layerPaths.map(async (p) => (await fs.stat(p)).size));
    return {
      image,
      imageId: state.archive!.imageId,
      manifest: state.manifest!,
      layers: names.map((name, i) => ({
        name,
        diffId: state.archive!.diffIds[i] ?? '',
        sizeBytes: sizes[i]!,
      })),
      sizeBytes: sizes.reduce((a, b) => a + b, 0),
      loaded: options.engine !== undefined,
      timings,
    };
  } catch (error) {
    if (isKurError(error)) throw error;
    throw new KurError('build', `building node image ${image} failed: ${messageOf(error)}`, { cause: error });
  } finally {
    if (state.filesLayer !== undefined) await fs.rm(state.filesLayer, { force: true });
  }
}

async function componentRecord(
  name: string,
  version: string,
  source: string,
  license: string | undefined,
  binaries: Map<string, string>,
): Promise<ComponentRecord> {
  const files = new Map<string, { path: string; sha256: string; size: number }>();
  for (const file of binaries.values()) {
    if (files.has(file)) continue;
    const stat = await fs.stat(file);
    files.set(file, { path: posix.basename(file), sha256: await sha256File(file), size: stat.size });
  }
  return { name, version, source, license, files: [...files.values()] };
}

/** Runs a component's version command and checks it names the pinned version. */
async function verifyVersion(
  manifest: ComponentsManifest,
  command: string[] | undefined,
  versionEnv: Record<string, string> | undefined,
  binaries: Map<string, string>,
  version: string,
  env: NodeJS.ProcessEnv,
): Promise<void> {
  if (command === undefined || command.length === 0) return;
  const [binary, ...rest] = command;
  const file = binaries.get(binary!);
  if (file === undefined) return;
  // A multi-call binary takes the command name as its first argument.
  const args = multiCallName(manifest, binary!, file) === undefined ? rest : [binary!, ...rest];
  const result = await execa(file, args, { env: { ...env, ...versionEnv }, reject: false });
  const output = `${result.stdout}\n${result.stderr}`;
  if (result.failed && result.exitCode === undefined) {
    throw new KurError('build', `${binary} does not run on this host`, { detail: output });
  }
  if (!output.includes(version.replace(/^v/, ''))) {
    throw new KurError('build', `${binary} reports a version other than the pinned ${version}`, {
      detail: output,
    });
  }
}

async function binariesLayer(manifest: ComponentsManifest, state: BuildState, work: string): Promise<string> {
  // kur's own node-side programs ride along: the HA load balancer and degraded mode's runc wrapper.
  const tools = new Map([...state.binaries, ...state.tools]);
  const list = binaryEntries(manifest, tools, [
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
