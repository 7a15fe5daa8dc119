import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as tar from 'tar-stream';

/**
 * Tar archives built and read in memory-light streams. Everything kur writes into a node or an
 * image goes through here, so modes, owners and mtimes are explicit: the same entries always
 * give the same bytes (node images are reproducible because of it).
 */
export type ArchiveEntry =
  | { type: 'file'; path: string; content: Buffer | string; mode?: number; uid?: number; gid?: number }
  | { type: 'directory'; path: string; mode?: number; uid?: number; gid?: number }
  | { type: 'symlink'; path: string; target: string; uid?: number; gid?: number };

/** A fixed timestamp for reproducible archives (SOURCE_DATE_EPOCH style). */
export const EPOCH = new Date(0);

export interface PackOptions {
  mtime?: Date;
}

/** Packs entries in the order given (callers sort when they need determinism). */
export function packEntries(entries: Iterable<ArchiveEntry>, options: PackOptions = {}): Readable {
  const pack = tar.pack();
  const mtime = options.mtime ?? EPOCH;
  void (async () => {
    try {
      for (const entry of entries) {
        const owner = { uid: entry.uid ?? 0, gid: entry.gid ?? 0, uname: '', gname: '', mtime };
        const name = entry.path.replace(/^\/+/, '');
        if (entry.type === 'file') {
          const content = typeof entry.content === 'string' ? Buffer.from(entry.content) : entry.content;
          await addEntry(
            pack,
            { ...owner, name, type: 'file', mode: entry.mode ?? 0o644, size: content.length },
            content,
          );
        } else if (entry.type === 'directory') {
          await addEntry(pack, { ...owner, name, type: 'directory', mode: entry.mode ?? 0o755 });
        } else {
          await addEntry(pack, { ...owner, name, type: 'symlink', mode: 0o777, linkname: entry.target });
        }
      }
      pack.finalize();
    } catch (error) {
      pack.destroy(error as Error);
    }
  })();
  // tar-stream 3 streams are streamx streams; hand callers a Node stream.
  return Readable.from(pack as AsyncIterable<Buffer>, { objectMode: false });
}

/** Adds one entry to a tar-stream pack; resolves once it is written. */
export function addEntry(
  pack: tar.Pack,
  header: Partial<tar.Header> & Pick<tar.Header, 'name'>,
  content?: Buffer,
): Promise<void> {
  return new Promise((resolve, reject) => {
    pack.entry(header, content ?? Buffer.alloc(0), (err) => (err ? reject(err) : resolve()));
  });
}

export interface ExtractedEntry {
  path: string;
  type: tar.Header['type'];
  mode: number;
  uid: number;
  gid: number;
  size: number;
  linkname: string | undefined;
  content: Buffer;
}

/**
 * Reads every entry of a tar stream into memory. Meant for small archives (config files, logs);
 * `limitBytes` guards against pulling a large tree by mistake.
 */
export async function readEntries(
  source: NodeJS.ReadableStream,
  limitBytes = 64 * 1024 * 1024,
): Promise<ExtractedEntry[]> {
  const extract = tar.extract();
  const entries: ExtractedEntry[] = [];
  let total = 0;
  extract.on('entry', (header, stream, next) => {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: unknown) => {
      const data = chunk as Buffer;
      total += data.length;
      if (total > limitBytes) {
        extract.destroy(new Error(`archive larger than ${limitBytes} bytes`));
        return;
      }
      chunks.push(data);
    });
    stream.on('end', () => {
      entries.push({
        path: header.name,
        type: header.type,
        mode: header.mode ?? 0,
        uid: header.uid ?? 0,
        gid: header.gid ?? 0,
        size: header.size ?? 0,
        linkname: header.linkname ?? undefined,
        content: Buffer.concat(chunks),
      });
      next();
    });
    stream.resume();
  });
  await pipeline(source as Readable, extract);
  return entries;
}

/** Collects a whole stream into one buffer. */
export async function streamToBuffer(source: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of source as AsyncIterable<Buffer | string>) {
    chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  }
  return Buffer.concat(chunks);
}
