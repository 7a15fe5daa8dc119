import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream, createWriteStream, promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, type Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as tar from 'tar-stream';
import { addEntry, EPOCH, packEntries, type ArchiveEntry } from './archive.js';
import { KurError, messageOf } from './errors.js';

/**
 * Writes a loadable image archive in the docker-archive format (what `docker save` writes and
 * `POST /images/load` reads on Docker and Podman): one `<diff id>/layer.tar` per layer, the image
 * config as `<config digest>.json`, `manifest.json` and the legacy `repositories` file.
 *
 * Deterministic: fixed timestamps, owners and entry order, so the same layers and config give the
 * same bytes and the same image ID. Streaming: layer files are read from disk (hashed in a first
 * pass, copied in a second), never held in memory; stream layers are spooled to a temp file.
 */

/** The runnable part of an image config (OCI/Docker image spec names in kur's casing). */
export interface ImageConfig {
  /** GOARCH-style: amd64, arm64. */
  architecture: string;
  os?: string;
  variant?: string;
  entrypoint?: string[];
  cmd?: string[];
  /** `NAME=value`, in order. */
  env?: string[];
  workingDir?: string;
  user?: string;
  labels?: Record<string, string>;
  stopSignal?: string;
  volumes?: string[];
  /** `6443/tcp` style. */
  exposedPorts?: string[];
  /** RFC 3339; defaults to the epoch so rebuilding gives the same ID. */
  created?: string;
}

export type LayerSource =
  /** An uncompressed tar file on disk. */
  | { path: string; comment?: string }
  /** An uncompressed tar stream (spooled to a temp file to learn its size and digest). */
  | { stream: Readable; comment?: string }
  /** Small generated content. */
  | { entries: ArchiveEntry[]; comment?: string };

export interface ImageArchiveSpec {
  /** Names to tag on load, fully qualified (`kur.local/node:v1.35.0`) so Docker and Podman agree. */
  repoTags: string[];
  config: ImageConfig;
  /** Bottom layer first. */
  layers: LayerSource[];
  /** Where stream layers are spooled (default: the OS temp dir). */
  tmpDir?: string;
}

export interface ImageArchiveResult {
  /** `sha256:<config digest>`: the image ID Docker and Podman report after loading. */
  imageId: string;
  /** `sha256:<hex>` of each uncompressed layer, bottom first. */
  diffIds: string[];
  repoTags: string[];
}

const epochText = '1970-01-01T00:00:00Z';

interface PreparedLayer {
  path: string;
  size: number;
  hex: string;
  comment: string;
}

/** Writes the archive to `out` (which is ended) and returns the image ID it will load as. */
export async function writeImageArchive(spec: ImageArchiveSpec, out: Writable): Promise<ImageArchiveResult> {
  validateTags(spec.repoTags);
  const spoolDir = await fs.mkdtemp(join(spec.tmpDir ?? tmpdir(), 'kur-image-'));
  try {
    const layers: PreparedLayer[] = [];
    for (const [index, layer] of spec.layers.entries()) {
      layers.push(await prepareLayer(layer, index, spoolDir));
    }
    const diffIds = layers.map((l) => `sha256:${l.hex}`);
    const configBytes = Buffer.from(JSON.stringify(imageConfigJson(spec.config, layers)));
    const configHex = sha256(configBytes);
    const manifest = [
      {
        Config: `${configHex}.json`,
        RepoTags: spec.repoTags,
        Layers: layers.map((l) => `${l.hex}/layer.tar`),
      },
    ];

    const pack = tar.pack();
    const writing = pipeline(pack as unknown as AsyncIterable<Buffer>, out);
    try {
      const written = new Set<string>();
      for (const layer of layers) {
        // Identical layers are stored once and referenced twice, as docker save does.
        if (written.has(layer.hex)) continue;
        written.add(layer.hex);
        await addFixedEntry(pack, { name: `${layer.hex}/`, type: 'directory', mode: 0o755 });
        await addFile(pack, `${layer.hex}/layer.tar`, layer.path, layer.size);
      }
      await addFixedEntry(pack, { name: `${configHex}.json`, mode: 0o644 }, configBytes);
      await addFixedEntry(
        pack,
        { name: 'manifest.json', mode: 0o644 },
        Buffer.from(JSON.stringify(manifest)),
      );
      await addFixedEntry(
        pack,
        { name: 'repositories', mode: 0o644 },
        Buffer.from(repositoriesJson(spec.repoTags, layers)),
      );
      pack.finalize();
    } catch (error) {
      pack.destroy(error as Error);
      throw error;
    } finally {
      await writing.catch(() => undefined);
    }
    await writing;
    return { imageId: `sha256:${configHex}`, diffIds, repoTags: spec.repoTags };
  } finally {
    await fs.rm(spoolDir, { recursive: true, force: true });
  }
}

/**
 * The archive as a readable stream, ready for `engine.images.load()`; `result` settles when it
 * has been read to the end (or rejects with what went wrong).
 */
export function imageArchiveStream(spec: ImageArchiveSpec): {
  stream: Readable;
  result: Promise<ImageArchiveResult>;
} {
  const stream = new PassThrough();
  const result = writeImageArchive(spec, stream);
  result.catch((error: unknown) => stream.destroy(error as Error));
  return { stream, result };
}

function validateTags(tags: string[]): void {
  for (const tag of tags) {
    if (!/^[a-z0-9][a-z0-9._\-/:]*:[\w][\w.-]{0,127}$/.test(tag)) {
      throw new KurError('build', `"${tag}" is not a valid image name with a tag`, {
        hint: 'use a fully qualified name with a tag, e.g. kur.local/node:v1.35.0',
      });
    }
  }
}

async function prepareLayer(layer: LayerSource, index: number, spoolDir: string): Promise<PreparedLayer> {
  const comment = layer.comment ?? `kur layer ${index + 1}`;
  if ('path' in layer) {
    let size: number;
    try {
      size = (await fs.stat(layer.path)).size;
    } catch (error) {
      throw new KurError('build', `cannot read image layer ${layer.path}`, { detail: messageOf(error) });
    }
    const hex = await hashFile(layer.path);
    return { path: layer.path, size, hex, comment };
  }
  const source = 'stream' in layer ? layer.stream : packEntries(layer.entries);
  const path = join(spoolDir, `layer-${index}.tar`);
  const hash = createHash('sha256');
  let size = 0;
  let first: Buffer | undefined;
  const file = createWriteStream(path);
  await pipeline(
    source,
    async function* (chunks: AsyncIterable<Buffer | string>) {
      for await (const chunk of chunks) {
        const data = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
        first ??= data;
        hash.update(data);
        size += data.length;
        yield data;
      }
    },
    file,
  );
  checkUncompressed(first, `layer ${index + 1}`);
  return { path, size, hex: hash.digest('hex'), comment };
}

async function hashFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  let first: Buffer | undefined;
  for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
    first ??= chunk;
    hash.update(chunk);
  }
  checkUncompressed(first, path);
  return hash.digest('hex');
}

/** Diff IDs are digests of uncompressed tars; a compressed layer would load with the wrong ID. */
function checkUncompressed(first: Buffer | undefined, what: string): void {
  if (first === undefined || first.length === 0) {
    throw new KurError('build', `image layer ${what} is empty`, {
      hint: 'a layer is a tar archive, at least 1024 bytes',
    });
  }
  if (first.length >= 2 && first[0] === 0x1f && first[1] === 0x8b) {
    throw new KurError('build', `image layer ${what} is gzip-compressed`, {
      hint: 'pass the uncompressed tar',
    });
  }
}

function imageConfigJson(config: ImageConfig, layers: PreparedLayer[]): Record<string, unknown> {
  const created = config.created ?? epochText;
  const runtime: Record<string, unknown> = {};
  if (config.user !== undefined) runtime.User = config.user;
  if (config.exposedPorts !== undefined) runtime.ExposedPorts = setOf(config.exposedPorts);
  if (config.env !== undefined) runtime.Env = config.env;
  if (config.entrypoint !== undefined) runtime.Entrypoint = config.entrypoint;
  if (config.cmd !== undefined) runtime.Cmd = config.cmd;
  if (config.volumes !== undefined) runtime.Volumes = setOf(config.volumes);
  if (config.workingDir !== undefined) runtime.WorkingDir = config.workingDir;
  if (config.labels !== undefined) runtime.Labels = sortedRecord(config.labels);
  if (config.stopSignal !== undefined) runtime.StopSignal = config.stopSignal;
  const json: Record<string, unknown> = { architecture: config.architecture };
  if (config.variant !== undefined) json.variant = config.variant;
  json.config = runtime;
  json.created = created;
  json.history = layers.map((l) => ({ created, created_by: l.comment }));
  json.os = config.os ?? 'linux';
  json.rootfs = { type: 'layers', diff_ids: layers.map((l) => `sha256:${l.hex}`) };
  return json;
}

function repositoriesJson(tags: string[], layers: PreparedLayer[]): string {
  const top = layers[layers.length - 1]?.hex ?? '';
  const repos: Record<string, Record<string, string>> = {};
  for (const reference of tags) {
    const colon = reference.lastIndexOf(':');
    (repos[reference.slice(0, colon)] ??= {})[reference.slice(colon + 1)] = top;
  }
  return JSON.stringify(repos);
}

function setOf(values: string[]): Record<string, object> {
  const out: Record<string, object> = {};
  for (const value of [...values].sort()) out[value] = {};
  return out;
}

function sortedRecord(record: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of Object.keys(record).sort()) out[key] = record[key]!;
  return out;
}

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

const fixedHeader = { mtime: EPOCH, uid: 0, gid: 0, uname: '', gname: '' };

function addFixedEntry(
  pack: tar.Pack,
  header: Partial<tar.Header> & Pick<tar.Header, 'name'>,
  content?: Buffer,
): Promise<void> {
  const full = { ...fixedHeader, ...header };
  return content === undefined
    ? addEntry(pack, full)
    : addEntry(pack, { ...full, type: 'file', size: content.length }, content);
}

async function addFile(pack: tar.Pack, name: string, path: string, size: number): Promise<void> {
  let settle!: { resolve: () => void; reject: (error: Error) => void };
  const done = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
  const sink = pack.entry({ ...fixedHeader, name, type: 'file', mode: 0o644, size }, (error) =>
    error ? settle.reject(error) : settle.resolve(),
  );
  let copied = 0;
  for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
    copied += chunk.length;
    if (copied > size) break;
    if (!sink.write(chunk)) await once(sink, 'drain');
  }
  if (copied !== size) {
    const error = new KurError('build', `image layer ${path} changed while it was being written`);
    sink.destroy(error);
    throw error;
  }
  sink.end(undefined);
  await done;
}
