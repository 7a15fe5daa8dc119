import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, promises as fs } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join, posix } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import * as tar from 'tar-stream';
import { sha256File } from '../../util/cache.js';
import type { Component } from '../components.js';
import { expandTemplate } from '../release-source.js';

/**
 * Test helpers for the release path: a local HTTP server that serves a directory laid out like
 * the official download sites (`<root>/<host>/<path>`, what `--mirror` expects), and a publisher
 * that writes a component's release archive and checksum file there, exactly at the paths and in
 * the formats images/components.json names.
 */
export interface ReleaseServer {
  url: string;
  /** Request paths, in order. */
  requests: string[];
  /** Overrides for one path (redirects, stalls, broken connections). */
  routes: Map<string, (req: IncomingMessage, res: ServerResponse) => void>;
  close(): Promise<void>;
}

export async function startReleaseServer(root: string): Promise<ReleaseServer> {
  const requests: string[] = [];
  const routes = new Map<string, (req: IncomingMessage, res: ServerResponse) => void>();
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    requests.push(path);
    const route = routes.get(path);
    if (route !== undefined) return route(req, res);
    const file = join(root, posix.normalize(path));
    void fs.stat(file).then(
      (stat) => {
        if (!stat.isFile()) throw new Error('not a file');
        res.writeHead(200, { 'content-length': stat.size, 'content-type': 'application/octet-stream' });
        createReadStream(file).pipe(res);
      },
      () => {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      },
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    routes,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The path under the server root where an official URL lives. */
export function mirrorPath(root: string, url: string): string {
  const parsed = new URL(url);
  return join(root, parsed.host, parsed.pathname);
}

export interface Published {
  archive: string;
  sha256: string;
}

/**
 * Publishes `component`'s release under `root`: the archive (or raw binary) built from
 * `binaries` (binary name -> file) and its checksum file. Files with the same content are
 * stored once, the others as hard links (a multi-call binary under seven names). `extraSums`
 * adds lines for other files to a sha256sum list, as upstream's shared lists have.
 */
export async function publishRelease(
  root: string,
  component: Component,
  binaries: Map<string, string>,
  extraSums: string[] = [],
): Promise<Published> {
  const release = component.release!;
  const url = expandTemplate(release.url, component.version);
  const archive = mirrorPath(root, url);
  await fs.mkdir(dirname(archive), { recursive: true });
  const files = Object.entries(release.files).map(([path, binary]) => {
    const file = binaries.get(binary);
    if (file === undefined) throw new Error(`publishRelease: no file for ${binary}`);
    return { name: expandTemplate(path, component.version), file };
  });
  if (release.archive === false) await fs.copyFile(files[0]!.file, archive);
  else await writeTar(archive, files);
  const sha256 = await sha256File(archive);
  if (release.sha256Url !== null && release.sha256Url !== undefined) {
    const sums = mirrorPath(root, expandTemplate(release.sha256Url, component.version));
    await fs.mkdir(dirname(sums), { recursive: true });
    const line =
      release.sha256Format === 'hash' ? sha256 : `${sha256}  ${posix.basename(new URL(url).pathname)}\n`;
    await fs.appendFile(sums, [...extraSums, line].join(release.sha256Format === 'hash' ? '' : '\n'));
  }
  return { archive, sha256 };
}

export type TarEntry = { name: string; file: string } | { name: string; symlink: string };

/**
 * A tar (gzip unless told otherwise) of files streamed from disk and symlinks; a file already
 * stored under another name becomes a hard link, as a multi-call binary under seven names.
 */
export async function writeTar(out: string, entries: readonly TarEntry[], gzip = true): Promise<void> {
  const pack = tar.pack();
  const written = gzip
    ? pipeline(pack, createGzip({ level: 1 }), createWriteStream(out))
    : pipeline(pack, createWriteStream(out));
  const stored = new Map<string, string>();
  const mtime = new Date(0);
  const add = (header: Partial<tar.Header> & Pick<tar.Header, 'name'>): Promise<void> =>
    new Promise((resolve, reject) => pack.entry(header, (err) => (err ? reject(err) : resolve())));
  for (const entry of entries) {
    if ('symlink' in entry) {
      await add({ name: entry.name, type: 'symlink', linkname: entry.symlink, mode: 0o777, mtime });
      continue;
    }
    const real = await fs.realpath(entry.file);
    const first = stored.get(real);
    if (first !== undefined) {
      await add({ name: entry.name, type: 'link', linkname: first, mode: 0o755, mtime });
      continue;
    }
    stored.set(real, entry.name);
    const { size, mode } = await fs.stat(real);
    await pipeline(
      createReadStream(real),
      pack.entry({ name: entry.name, type: 'file', size, mode: mode & 0o777, mtime }),
    );
  }
  pack.finalize();
  await written;
}

/** A stand-in binary: a shell script that prints its name and version. */
export async function fakeBinary(dir: string, name: string, version: string): Promise<string> {
  const file = join(dir, name);
  await fs.mkdir(dir, { recursive: true });
  await fs.writeFile(file, `#!/bin/sh\necho "${name} version ${version}"\n`, { mode: 0o644 });
  return file;
}

export function sha256Of(content: string | Buffer): string {
  return createHash('sha256').update(content).digest('hex');
}
