import type { Engine } from './types.js';
import { packEntries, readEntries, type ArchiveEntry } from '../util/archive.js';
import { KurError } from '../util/errors.js';

/**
 * File helpers over the archive endpoints, for configs written into nodes and small files read
 * back (kubeconfigs, logs). Entry paths are absolute; they are written relative to `/`.
 */
export async function writeFiles(engine: Engine, container: string, entries: ArchiveEntry[]): Promise<void> {
  await engine.containers.putArchive(container, '/', packEntries(entries));
}

/** The contents of one regular file in a container (at most `limitBytes`). */
export async function readFile(
  engine: Engine,
  container: string,
  path: string,
  limitBytes = 16 * 1024 * 1024,
): Promise<Buffer> {
  const entries = await readEntries(await engine.containers.getArchive(container, path), limitBytes);
  const file = entries.find((e) => e.type === 'file');
  if (file === undefined || entries.length !== 1) {
    throw new KurError('engine', `${path} in container "${container}" is not a regular file`);
  }
  return file.content;
}
