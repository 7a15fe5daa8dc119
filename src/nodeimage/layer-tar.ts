import { createReadStream, createWriteStream, promises as fs } from 'node:fs';
import { join, relative } from 'node:path';
import { pipeline } from 'node:stream/promises';
import * as tar from 'tar-stream';
import { EPOCH } from '../util/archive.js';

/**
 * Deterministic layer tarballs streamed from files on disk: entries in a fixed order, owner
 * root, mtime at the epoch, so equal inputs give byte-equal layers (and equal image IDs).
 * Binaries are hundreds of megabytes, so file contents are streamed, never buffered whole.
 */
export type LayerEntry =
  | { type: 'file'; path: string; source: string; mode?: number }
  | { type: 'data'; path: string; content: Buffer | string; mode?: number }
  | { type: 'directory'; path: string; mode?: number }
  | { type: 'symlink'; path: string; target: string };

type Header = Partial<tar.Header> & Pick<tar.Header, 'name'>;

function header(name: string, extra: Partial<tar.Header>): Header {
  return { name: name.replace(/^\/+/, ''), uid: 0, gid: 0, uname: '', gname: '', mtime: EPOCH, ...extra };
}

/** Adds the parent directories of every entry that no entry names, so modes are never invented. */
export function withParents(entries: readonly LayerEntry[]): LayerEntry[] {
  const named = new Set(entries.map((e) => e.path.replace(/^\/+|\/+$/g, '')));
  const parents: LayerEntry[] = [];
  for (const entry of entries) {
    const parts = entry.path.replace(/^\/+/, '').split('/');
    for (let i = 1; i < parts.length; i += 1) {
      const dir = parts.slice(0, i).join('/');
      if (!named.has(dir)) {
        named.add(dir);
        parents.push({ type: 'directory', path: dir, mode: 0o755 });
      }
    }
  }
  return [...parents, ...entries];
}

/** Entries sorted by path (parents before children), the order every layer uses. */
export function sortEntries(entries: readonly LayerEntry[]): LayerEntry[] {
  const key = (e: LayerEntry): string => e.path.replace(/^\/+|\/+$/g, '');
  return [...entries].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

/** Writes a layer tarball to `out`. Entries are written in the order given. */
export async function writeLayerTar(out: string, entries: readonly LayerEntry[]): Promise<void> {
  const pack = tar.pack();
  const written = pipeline(pack, createWriteStream(out));
  try {
    for (const entry of entries) await addEntry(pack, entry);
    pack.finalize();
  } catch (error) {
    pack.destroy(error as Error);
    throw error;
  }
  await written;
}

async function addEntry(pack: tar.Pack, entry: LayerEntry): Promise<void> {
  switch (entry.type) {
    case 'directory':
      return addBuffer(
        pack,
        header(entry.path, { type: 'directory', mode: entry.mode ?? 0o755 }),
        Buffer.alloc(0),
      );
    case 'symlink':
      return addBuffer(
        pack,
        header(entry.path, { type: 'symlink', mode: 0o777, linkname: entry.target }),
        Buffer.alloc(0),
      );
    case 'data': {
      const content = typeof entry.content === 'string' ? Buffer.from(entry.content) : entry.content;
      return addBuffer(
        pack,
        header(entry.path, { type: 'file', mode: entry.mode ?? 0o644, size: content.length }),
        content,
      );
    }
    case 'file': {
      const stat = await fs.stat(entry.source);
      const sink = pack.entry(
        header(entry.path, { type: 'file', mode: entry.mode ?? stat.mode & 0o7777, size: stat.size }),
      );
      await pipeline(createReadStream(entry.source), sink);
      return;
    }
  }
}

function addBuffer(pack: tar.Pack, h: Header, content: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    pack.entry(h, content, (error) => (error ? reject(error) : resolve()));
  });
}

/**
 * The entries of a directory tree, as it is on disk (modes and symlinks kept), rooted at
 * `prefix` inside the layer. Owners and times are normalized by writeLayerTar.
 */
export async function directoryEntries(dir: string, prefix = ''): Promise<LayerEntry[]> {
  const entries: LayerEntry[] = [];
  const walk = async (current: string): Promise<void> => {
    const names = (await fs.readdir(current)).sort();
    for (const name of names) {
      const full = join(current, name);
      const path = join(prefix, relative(dir, full));
      const stat = await fs.lstat(full);
      if (stat.isSymbolicLink()) {
        entries.push({ type: 'symlink', path, target: await fs.readlink(full) });
      } else if (stat.isDirectory()) {
        entries.push({ type: 'directory', path, mode: stat.mode & 0o7777 });
        await walk(full);
      } else if (stat.isFile()) {
        entries.push({ type: 'file', path, source: full, mode: stat.mode & 0o7777 });
      }
    }
  };
  await walk(dir);
  return entries;
}

/**
 * Copies the entries of an existing tarball whose paths `select` accepts into a new layer,
 * unchanged (owners, modes, links and times kept as the source has them).
 */
export async function filterTar(
  source: string,
  out: string,
  select: (path: string) => boolean,
): Promise<number> {
  const extract = tar.extract();
  const pack = tar.pack();
  let count = 0;
  extract.on('entry', (h, stream, next) => {
    const path = h.name.replace(/^\.\//, '').replace(/\/$/, '');
    if (!select(path)) {
      stream.on('end', next);
      stream.resume();
      return;
    }
    count += 1;
    const sink = pack.entry({ ...h, name: path });
    pipeline(stream, sink).then(() => next(), next);
  });
  const written = pipeline(pack, createWriteStream(out));
  await pipeline(createReadStream(source), extract);
  pack.finalize();
  await written;
  return count;
}

/** Reads chosen small files out of a tarball (e.g. dpkg's database from the base rootfs). */
export async function readTarFiles(
  source: string,
  select: (path: string) => boolean,
): Promise<Map<string, Buffer>> {
  const extract = tar.extract();
  const found = new Map<string, Buffer>();
  extract.on('entry', (h, stream, next) => {
    const path = h.name.replace(/^\.\//, '').replace(/\/$/, '');
    if (h.type !== 'file' || !select(path)) {
      stream.on('end', next);
      stream.resume();
      return;
    }
    const chunks: Buffer[] = [];
    stream.on('data', (c: unknown) => chunks.push(c as Buffer));
    stream.on('end', () => {
      found.set(path, Buffer.concat(chunks));
      next();
    });
  });
  await pipeline(createReadStream(source), extract);
  return found;
}
