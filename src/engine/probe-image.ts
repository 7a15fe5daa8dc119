import { createHash, randomBytes } from 'node:crypto';
import { exitZeroElf, isProbeArch, staticElfArch } from './probe-binary.js';
import type { HostFs } from './host-fs.js';
import { labels } from './labels.js';
import type { Engine } from './types.js';
import type { ArchiveEntry } from '../util/archive.js';
import { KurError, isKurError, messageOf } from '../util/errors.js';
import { imageArchiveStream } from '../util/image-archive.js';
import type { Logger } from '../util/logger.js';

/**
 * A throwaway image for probing what containers an engine can start, built by kur from a tar
 * stream (nothing is pulled). With the host's static busybox it can also read /proc; without
 * it, kur's own exit(0) program still proves a container starts.
 */
export interface ProbeImage {
  reference: string;
  /** True when the image has a shell and `cat` (busybox), so a probe can read files. */
  canRead: boolean;
  /** The command that proves a container ran: exits 0. */
  succeed: string[];
  /** Loads the image again (another process removed it between our load and our use). */
  reload(): Promise<void>;
  /** Drops this run's tag; the image goes when no other run's tag and no container holds it. */
  remove(): Promise<void>;
}

/** Where a static busybox usually is (Debian's busybox-static; usrmerge makes both the same file). */
export const busyboxPaths = ['/bin/busybox', '/usr/bin/busybox'];

export interface ProbeImageOptions {
  logger: Logger;
  fs: HostFs;
  /** Ignore the host's busybox (tests of the fallback). */
  builtinOnly?: boolean;
  /** This run's tag suffix; random by default (tests pass a fixed one). */
  runId?: string;
}

/**
 * The probe image's reference for one run. Its content is the same for every run on a host
 * (the repository and the digest part say which), but every run tags it with its own suffix:
 * two kur processes probing one engine at once each remove only their own tag, and the engine
 * keeps the image while the other's tag (and the containers made from it) exist. One shared
 * tag let one process delete the image under the other (issue 9: "No such image").
 */
export function probeImageReference(arch: string, contentDigest: string, runId: string): string {
  return `kur.local/probe:${arch}-${contentDigest.slice(0, 12)}-${runId}`;
}

export async function loadProbeImage(
  engine: Engine,
  arch: string,
  options: ProbeImageOptions,
): Promise<ProbeImage> {
  if (!isProbeArch(arch)) {
    throw new KurError('engine', `kur has no probe program for the engine's architecture ${arch}`, {
      hint: 'kur supports amd64 and arm64 engines.',
    });
  }
  const busybox = options.builtinOnly === true ? undefined : await findBusybox(options.fs, arch);
  let entries: ArchiveEntry[];
  let succeed: string[];
  if (busybox !== undefined) {
    entries = [
      { type: 'directory', path: 'bin' },
      { type: 'file', path: 'bin/busybox', content: busybox, mode: 0o755 },
      ...['sh', 'cat', 'true'].map((applet): ArchiveEntry => ({
        type: 'symlink',
        path: `bin/${applet}`,
        target: 'busybox',
      })),
    ];
    succeed = ['/bin/true'];
  } else {
    entries = [{ type: 'file', path: 'probe', content: exitZeroElf(arch), mode: 0o755 }];
    succeed = ['/probe'];
  }
  const digest = createHash('sha256');
  for (const entry of entries) if (entry.type === 'file') digest.update(entry.content);
  const reference = probeImageReference(
    arch,
    digest.digest('hex'),
    options.runId ?? randomBytes(4).toString('hex'),
  );
  const load = async (): Promise<void> => {
    const { stream, result } = imageArchiveStream({
      repoTags: [reference],
      config: { architecture: arch, cmd: succeed, labels: { [labels.managed]: 'true' } },
      layers: [{ entries, comment: 'kur probe' }],
    });
    await Promise.all([engine.images.load(stream), result]);
  };
  await load();
  options.logger.debug(
    `engine probe: loaded ${reference} (${busybox === undefined ? 'kur exit(0) program' : 'busybox'})`,
  );
  return {
    reference,
    canRead: busybox !== undefined,
    succeed,
    reload: load,
    remove: () => removeProbeTag(engine, reference, options.logger),
  };
}

/**
 * Removes one run's tag, never forcing: with another run's tag on the same image the engine only
 * untags; with a container still using it the engine refuses (a conflict), and the image stays
 * for whoever uses it. Gone already is fine too.
 */
export async function removeProbeTag(engine: Engine, reference: string, logger: Logger): Promise<void> {
  try {
    await engine.images.remove(reference, { force: false });
  } catch (error) {
    if (isKurError(error, 'notFound')) return;
    // Podman answers an image in use with 500 rather than 409.
    if (
      isKurError(error, 'conflict') ||
      /in use|being used/i.test(`${messageOf(error)} ${isKurError(error) ? (error.detail ?? '') : ''}`)
    ) {
      logger.debug(`engine probe: ${reference} is still in use; left in place`);
      return;
    }
    throw error;
  }
}

async function findBusybox(fs: HostFs, arch: string): Promise<Buffer | undefined> {
  for (const path of busyboxPaths) {
    const data = await fs.readFile(path).catch(() => undefined);
    if (data !== undefined && staticElfArch(data) === arch) return data;
  }
  return undefined;
}
