import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { ArchiveEntry } from '../../src/util/archive.js';
import { staticElfArch } from '../../src/engine/probe-binary.js';
import type { Engine } from '../../src/engine/types.js';
import { imageArchiveStream, type ImageArchiveResult } from '../../src/util/image-archive.js';

/** Debian's busybox-static, which e2e/host/setup-engines.sh installs. */
export const busyboxPath = '/bin/busybox';

/**
 * A test image built from the host's static busybox through a tar stream (nothing is pulled):
 * /bin/busybox plus a symlink per applet, and /tmp, with the given labels (the test run's).
 */
export async function loadBusyboxImage(
  engine: Engine,
  reference: string,
  labels: Record<string, string>,
): Promise<{ loaded: string[]; archive: ImageArchiveResult }> {
  let busybox: Buffer;
  try {
    busybox = readFileSync(busyboxPath);
  } catch {
    throw new Error(`${busyboxPath} is missing: install busybox-static (e2e/host/setup-engines.sh does)`);
  }
  const arch = staticElfArch(busybox);
  if (arch === undefined) throw new Error(`${busyboxPath} is not a static busybox: install busybox-static`);
  const applets = execFileSync(busyboxPath, ['--list'], { encoding: 'utf8' })
    .split('\n')
    .filter((a) => /^[a-z0-9_.[-]+$/.test(a) && a !== 'busybox')
    .sort();
  const entries: ArchiveEntry[] = [
    { type: 'directory', path: 'bin' },
    { type: 'file', path: 'bin/busybox', content: busybox, mode: 0o755 },
    ...applets.map((applet): ArchiveEntry => ({ type: 'symlink', path: `bin/${applet}`, target: 'busybox' })),
    { type: 'directory', path: 'tmp', mode: 0o1777 },
    { type: 'directory', path: 'etc' },
    { type: 'file', path: 'etc/passwd', content: 'root:x:0:0:root:/root:/bin/sh\n' },
    { type: 'file', path: 'etc/group', content: 'root:x:0:\n' },
  ];
  const { stream, result } = imageArchiveStream({
    repoTags: [reference],
    config: { architecture: arch, env: ['PATH=/bin'], cmd: ['sleep', '3600'], labels },
    layers: [{ entries, comment: 'busybox-static from the test host' }],
  });
  const loaded = await engine.images.load(stream);
  return { loaded, archive: await result };
}
