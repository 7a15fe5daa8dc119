import { arch as hostArch } from 'node:os';
import { join } from 'node:path';
import type { Engine } from '../../engine/types.js';
import type { ProgressListener, RendererKind } from '../../ui/progress.js';
import { cacheRoot } from '../../util/cache.js';
import { KurError } from '../../util/errors.js';
import type { Logger } from '../../util/logger.js';
import { loadComponents, type ComponentsManifest } from '../components.js';
import { defaultNodeImage } from '../defaults.js';
import type { BinarySource } from '../types.js';

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

/** Where the binaries come from, with what each source needs. */
export type SourcePlan =
  { kind: 'go' } | { kind: 'release'; mirror: string | undefined } | { kind: 'local'; path: string };

/** The options, checked and defaulted once; every phase reads these and nothing else. */
export interface BuildInputs {
  logger: Logger;
  env: NodeJS.ProcessEnv;
  manifest: ComponentsManifest;
  /** The pinned Kubernetes version. */
  version: string;
  image: string;
  /** Go's name for the architecture (`amd64`). */
  arch: string;
  source: SourcePlan;
  engine: Engine | undefined;
  archivePath: string | undefined;
  renderer: RendererKind;
  signal: AbortSignal | undefined;
  cacheDir: string;
  /** Layer tarballs are written here. */
  work: string;
  /** The files layer holds this build's manifest: one per process, removed when the build ends. */
  filesLayer: string;
}

const goArch: Record<string, string> = { x64: 'amd64', arm64: 'arm64' };

export function resolveInputs(options: BuildNodeImageOptions): BuildInputs {
  const env = options.env ?? process.env;
  const manifest = options.manifest ?? loadComponents();
  const version = options.kubernetesVersion ?? manifest.kubernetes;
  if (version !== manifest.kubernetes) {
    throw new KurError('usage', `this kur pins Kubernetes ${manifest.kubernetes}; ${version} is not pinned`, {
      hint: `Build ${manifest.kubernetes} (the default), or change images/components.json and the Go modules under images/go.`,
    });
  }
  const arch = goArch[hostArch()] ?? hostArch();
  if (arch !== 'amd64') {
    throw new KurError(
      'build',
      `building node images on ${arch} is not supported yet (components.json pins linux/amd64)`,
    );
  }
  const cacheDir = options.cacheDir ?? cacheRoot(env);
  const work = join(cacheDir, 'layers');
  return {
    logger: options.logger,
    env,
    manifest,
    version,
    // The pinned version is the only one: its default name carries the recipe digest, as create expects.
    image: options.image ?? defaultNodeImage(),
    arch,
    source: sourcePlan(options),
    engine: options.engine,
    archivePath: options.archivePath,
    renderer: options.renderer,
    signal: options.signal,
    cacheDir,
    work,
    filesLayer: join(work, `files-${process.pid}.tar`),
  };
}

function sourcePlan(options: BuildNodeImageOptions): SourcePlan {
  const source = options.source ?? 'go';
  if (source === 'release') return { kind: 'release', mirror: options.mirror };
  if (source === 'go') return { kind: 'go' };
  if (options.localPath === undefined) {
    throw new KurError('usage', '--source local needs the path of the binaries', {
      hint: 'Pass --binaries <directory or tarball>.',
    });
  }
  return { kind: 'local', path: options.localPath };
}
