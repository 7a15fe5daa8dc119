import { createReadStream, promises as fs } from 'node:fs';
import { posix } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import * as tar from 'tar-stream';
import { messageOf } from '../util/errors.js';

/** Archive paths as tar writes them (`./bin/x`, `bin/x`) compare equal. */
export function cleanPath(path: string): string {
  return posix
    .normalize(path.replace(/^\/+/, ''))
    .replace(/^(\.\/)+/, '')
    .replace(/\/+$/, '');
}

/**
 * Reads a tar or tar.gz (told apart by the gzip magic, not the name) entry by entry. `handle`
 * must consume or resume each entry's stream.
 */
export async function forEachTarEntry(
  file: string,
  handle: (header: tar.Header, body: Readable) => Promise<void>,
): Promise<void> {
  const handleFile = await fs.open(file, 'r');
  const magic = Buffer.alloc(2);
  try {
    await handleFile.read(magic, 0, 2, 0);
  } finally {
    await handleFile.close();
  }
  const extract = tar.extract();
  const gzip = magic[0] === 0x1f && magic[1] === 0x8b;
  const done = gzip
    ? pipeline(createReadStream(file), createGunzip(), extract)
    : pipeline(createReadStream(file), extract);
  let failure: unknown;
  try {
    for await (const entry of extract) await handle(entry.header, entry as unknown as Readable);
  } catch (error) {
    failure = error;
  }
  try {
    await done;
  } catch (error) {
    failure ??= error;
  }
  if (failure !== undefined) throw failure instanceof Error ? failure : new Error(messageOf(failure));
}
