import { createHash } from 'node:crypto';
import { exitZeroElf, isProbeArch, staticElfArch } from './probe-binary.js';
import type { HostFs } from './host-fs.js';
import { labels } from './labels.js';
import type { Engine } from './types.js';
import type { ArchiveEntry } from '../util/archive.js';
import { KurError, isKurError } from '../util/errors.js';
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
  remove(): Promise<void>;
}

/** Where a static busybox usually is (Debian's busybox-static; usrmerge makes both the same file). */
export const busyboxPaths = ['/bin/busybox', '/usr/bin/busybox'];

export interface ProbeImageOptions {
  logger: Logger;
  fs: HostFs;
  /** Ignore the host's busybox (tests of the fallback). */
  builtinOnly?: boolean;
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
  const reference = `kur.local/probe:${arch}-${digest.digest('hex').slice(0, 12)}`;
  const { stream, result } = imageArchiveStream({
    repoTags: [reference],
    config: { architecture: arch, cmd: succeed, labels: { [labels.managed]: 'true' } },
    layers: [{ entries, comment: 'kur probe' }],
  });
  await engine.images.load(stream);
  await result;
  options.logger.debug(
    `engine probe: loaded ${reference} (${busybox === undefined ? 'kur exit(0) program' : 'busybox'})`,
  );
  return {
    reference,
    canRead: busybox !== undefined,
    succeed,
    remove: async () => {
      try {
        await engine.images.remove(reference, { force: true });
      } catch (error) {
        if (!isKurError(error, 'notFound')) throw error;
      }
    },
  };
}

async function findBusybox(fs: HostFs, arch: string): Promise<Buffer | undefined> {
  for (const path of busyboxPaths) {
    const data = await fs.readFile(path).catch(() => undefined);
    if (data !== undefined && staticElfArch(data) === arch) return data;
  }
  return undefined;
}
