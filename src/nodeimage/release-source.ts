import { createHash } from 'node:crypto';
import { createWriteStream, promises as fs } from 'node:fs';
import { join, posix } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { cachedEntry, cacheKey, exists } from '../util/cache.js';
import { KurError, isKurError, messageOf } from '../util/errors.js';
import type { Logger } from '../util/logger.js';
import type { Component, ReleaseSource } from './components.js';
import type { BuiltComponent } from './go-build.js';
import { cleanPath, forEachTarEntry } from './tar-read.js';

/**
 * The release path: a component's official release archive (or raw binary), downloaded once,
 * verified against its published checksum (or a sha256 pinned in components.json) and cached
 * as extracted binaries. Bytes that are not verified are never installed: a release with no
 * checksum is refused, and a mismatch, a dead URL or an interrupted download leave no cache entry
 * (everything is written into a temp directory that is renamed into place only when complete).
 */
export interface ReleaseOptions {
  cacheDir: string;
  logger: Logger;
  /**
   * A mirror holding the official files as `<mirror>/<host>/<path>` (the layout `wget -x`
   * writes): `https://dl.k8s.io/v1.37.2/x.tar.gz` is fetched from `<mirror>/dl.k8s.io/v1.37.2/x.tar.gz`.
   */
  mirror?: string;
  /** No response or no new data for this long fails the download. Default 60 s. */
  timeoutMs?: number;
  onStatus?: (text: string) => void;
  signal?: AbortSignal;
}

export interface FetchedComponent extends BuiltComponent {
  /** For the image manifest: the URL the archive came from and its verified sha256. */
  source: string;
  url: string;
  sha256: string;
}

/** Written next to the binaries: what a cache hit reports without asking the network. */
interface EntryRecord {
  url: string;
  sha256: string;
  files: Record<string, string>;
}

const recordFile = 'release.json';
const hexDigest = /^[0-9a-f]{64}$/;

export const releaseHint =
  'Check the network; behind a proxy or offline, serve the official files from a mirror laid out as ' +
  '<mirror>/<host>/<path> and pass --mirror <url>, or build from source with --source go.';

/** `{version}` and `{versionNoV}` in a release URL or archive path. */
export function expandTemplate(template: string, version: string): string {
  return template.replaceAll('{versionNoV}', version.replace(/^v/, '')).replaceAll('{version}', version);
}

/** The URL to fetch: the official one, or the same file under a mirror. */
export function mirrorUrl(url: string, mirror: string | undefined): string {
  if (mirror === undefined || mirror === '') return url;
  const parsed = new URL(url);
  return `${mirror.replace(/\/+$/, '')}/${parsed.host}${parsed.pathname}${parsed.search}`;
}

/** The digest for `fileName` in a checksum file (`hash`: just the digest; `sha256sum`: lines). */
export function parseChecksum(
  text: string,
  format: ReleaseSource['sha256Format'],
  fileName: string,
): string | undefined {
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
  const fields = lines.map((l) => l.split(/\s+/));
  if (format === 'hash' || (format === undefined && lines.length === 1 && fields[0]!.length === 1)) {
    const digest = fields[0]?.[0]?.toLowerCase();
    return digest !== undefined && hexDigest.test(digest) ? digest : undefined;
  }
  // `<hex>  <name>`, `<hex> *<name>` (binary mode), names possibly with a directory.
  for (const [digest, name] of fields) {
    if (name === undefined || digest === undefined) continue;
    if (posix.basename(name.replace(/^\*/, '')) === fileName && hexDigest.test(digest.toLowerCase())) {
      return digest.toLowerCase();
    }
  }
  return undefined;
}

/** Downloads (or takes from the cache) every binary a component's release provides. */
export async function fetchReleaseComponent(
  component: Component,
  options: ReleaseOptions,
): Promise<FetchedComponent> {
  const what = `${component.name} ${component.version}`;
  const release = component.release;
  if (release === null) {
    throw new KurError('build', `${what} has no upstream release (kur builds it)`, {
      hint: 'Take this component from the Go path (--source go builds it in seconds).',
    });
  }
  const official = expandTemplate(release.url, component.version);
  const url = mirrorUrl(official, options.mirror);
  const pinned = release.sha256?.toLowerCase();
  const sumUrl =
    release.sha256Url !== undefined && release.sha256Url !== null
      ? mirrorUrl(expandTemplate(release.sha256Url, component.version), options.mirror)
      : undefined;
  if (pinned === undefined && sumUrl === undefined) {
    throw new KurError(
      'build',
      `${what}: its release ${official} publishes no checksum, so kur will not use it`,
      {
        hint: 'Pin a verified "sha256" for it in images/components.json, or take it from --source go.',
      },
    );
  }
  if (pinned !== undefined && !hexDigest.test(pinned)) {
    throw new KurError('build', `${what}: the pinned sha256 "${pinned}" is not a sha256 hex digest`);
  }
  const files = Object.fromEntries(
    Object.entries(release.files).map(([path, binary]) => [expandTemplate(path, component.version), binary]),
  );
  const key = cacheKey(url, pinned ?? `${sumUrl}\0${release.sha256Format ?? ''}`, JSON.stringify(files));
  const target = join(options.cacheDir, 'release', `${component.name}-${component.version}-${key}`);
  const context: Context = { what, options, timeoutMs: options.timeoutMs ?? 60_000 };
  const plan: Plan = { release, official, url, pinned, sumUrl, files };

  await removeStalePartials(target);
  let hit: boolean;
  try {
    ({ hit } = await cachedEntry(target, (temp) => downloadRelease(temp, plan, context)));
  } catch (error) {
    // Another kur finished the same entry first: theirs is as good as ours.
    if (!isKurError(error) && (await exists(join(target, recordFile)))) hit = true;
    else throw error;
  }
  const record = JSON.parse(await fs.readFile(join(target, recordFile), 'utf8')) as EntryRecord;
  const binaries = new Map<string, string>();
  for (const binary of Object.values(files)) {
    const file = join(target, binary);
    await fs.access(file);
    binaries.set(binary, file);
  }
  if (hit) options.logger.debug(`${what}: cached release ${target}`);
  return {
    component,
    binaries,
    cached: hit,
    url: record.url,
    sha256: record.sha256,
    source: `${record.url} (sha256 ${record.sha256})`,
  };
}

interface Context {
  what: string;
  options: ReleaseOptions;
  timeoutMs: number;
}

interface Plan {
  release: ReleaseSource;
  /** The official URL (its basename is what checksum lists name) and the one fetched. */
  official: string;
  url: string;
  pinned: string | undefined;
  sumUrl: string | undefined;
  /** Archive path -> binary name, templates expanded. */
  files: Record<string, string>;
}

/** Fills the temp directory of a cache entry: checksum, download, verify, unpack, record. */
async function downloadRelease(temp: string, plan: Plan, context: Context): Promise<void> {
  const { release, official, url, pinned, sumUrl, files } = plan;
  const { what, options } = context;
  await fs.mkdir(temp);
  const expected = pinned ?? (await publishedDigest(sumUrl!, release, official, context));
  const download = join(temp, '.download');
  options.onStatus?.(`downloading ${url}`);
  const actual = await downloadTo(url, download, context);
  if (actual !== expected) {
    const from = pinned !== undefined ? 'pinned in components.json' : `from ${sumUrl}`;
    throw new KurError(
      'build',
      `${what}: checksum mismatch for ${url}: expected sha256 ${expected} (${from}), got ${actual}`,
      {
        hint: 'The download is not the published file (corrupt, truncated, or changed by a proxy or mirror): retry, check the mirror, or build from source with --source go.',
      },
    );
  }
  options.onStatus?.(`unpacking ${posix.basename(official)}`);
  if (release.archive === false) {
    const [binary] = Object.values(files);
    if (binary === undefined) throw new KurError('build', `${what}: the release lists no file`);
    await fs.rename(download, join(temp, binary));
    await fs.chmod(join(temp, binary), 0o755);
  } else {
    await extractFiles(download, files, temp, context, url);
    await fs.rm(download);
  }
  const record: EntryRecord = { url, sha256: actual, files };
  await fs.writeFile(join(temp, recordFile), `${JSON.stringify(record, null, 2)}\n`);
}

async function publishedDigest(
  sumUrl: string,
  release: ReleaseSource,
  official: string,
  context: Context,
): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  await get(sumUrl, context, async (body) => {
    for await (const chunk of body) {
      chunks.push(chunk as Buffer);
      size += (chunk as Buffer).length;
      if (size > 1024 * 1024) throw new Error('the checksum file is over 1 MiB');
    }
  });
  const text = Buffer.concat(chunks).toString('utf8');
  const name = posix.basename(new URL(official).pathname);
  const digest = parseChecksum(text, release.sha256Format, name);
  if (digest === undefined) {
    throw new KurError(
      'build',
      `${context.what}: ${sumUrl} holds no sha256 for ${name} (format ${release.sha256Format ?? 'auto'})`,
      { detail: text.slice(0, 2000), hint: releaseHint },
    );
  }
  return digest;
}

/** Streams `url` into `file`, hashing on the way; returns the sha256. */
async function downloadTo(url: string, file: string, context: Context): Promise<string> {
  const hash = createHash('sha256');
  await get(url, context, async (body, alive) => {
    const hashing = async function* (source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
      for await (const chunk of source) {
        alive();
        hash.update(chunk);
        yield chunk;
      }
    };
    await pipeline(body, hashing, createWriteStream(file));
  });
  return hash.digest('hex');
}

class StallTimeout extends Error {}

/**
 * GETs `url` (redirects followed) and hands the body to `consume`. A timer, re-armed by every
 * chunk (`alive`), aborts a connection that stays silent; every failure becomes a KurError
 * naming the component and the URL.
 */
async function get(
  url: string,
  context: Context,
  consume: (body: Readable, alive: () => void) => Promise<void>,
): Promise<void> {
  const { what, options, timeoutMs } = context;
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const alive = (): void => {
    clearTimeout(timer);
    timer = setTimeout(() => controller.abort(new StallTimeout()), timeoutMs);
  };
  const signal =
    options.signal !== undefined ? AbortSignal.any([options.signal, controller.signal]) : controller.signal;
  alive();
  try {
    const response = await fetch(url, { redirect: 'follow', signal });
    if (!response.ok || response.body === null) {
      await response.body?.cancel();
      throw new KurError(
        'build',
        `${what}: ${url} answered HTTP ${response.status} ${response.statusText}, expected the release file`,
        { hint: releaseHint },
      );
    }
    await consume(Readable.fromWeb(response.body as WebReadableStream<Uint8Array>), alive);
  } catch (error) {
    if (isKurError(error)) throw error;
    if (options.signal?.aborted === true) {
      throw new KurError('cancelled', `${what}: downloading ${url} was cancelled`, { cause: error });
    }
    if (controller.signal.aborted) {
      throw new KurError(
        'build',
        `${what}: ${url} sent nothing for ${(timeoutMs / 1000).toFixed(1)} s, expected the release file`,
        { hint: releaseHint },
      );
    }
    const cause = (error as { cause?: unknown }).cause;
    const reason = cause !== undefined ? `${messageOf(error)}: ${messageOf(cause)}` : messageOf(error);
    throw new KurError('build', `${what}: cannot download ${url}: ${reason}`, {
      hint: releaseHint,
      cause: error,
    });
  } finally {
    clearTimeout(timer);
  }
}

/** Writes the archive files listed in `files` (path -> binary name) into `dir`, executable. */
async function extractFiles(
  archive: string,
  files: Record<string, string>,
  dir: string,
  context: Context,
  url: string,
): Promise<void> {
  const wanted = new Map(Object.entries(files).map(([path, binary]) => [cleanPath(path), binary]));
  // Archive path -> extracted file, and the binary names done.
  const written = new Map<string, string>();
  const done = new Set<string>();
  const links: [binary: string, target: string][] = [];
  const seen: string[] = [];
  try {
    await forEachTarEntry(archive, async (header, body) => {
      const path = cleanPath(header.name);
      const binary = wanted.get(path);
      if (header.type === 'file' || header.type === 'contiguous-file') seen.push(path);
      if (binary === undefined) {
        body.resume();
        return;
      }
      if (header.type === 'file' || header.type === 'contiguous-file') {
        await pipeline(body, createWriteStream(join(dir, binary), { mode: 0o755 }));
        written.set(path, join(dir, binary));
        done.add(binary);
        return;
      }
      body.resume();
      // A hard link names the earlier entry; a symlink is relative to its own directory.
      const linkname = header.linkname ?? '';
      if (header.type === 'link') links.push([binary, cleanPath(linkname)]);
      else if (header.type === 'symlink')
        links.push([binary, cleanPath(posix.join(posix.dirname(path), linkname))]);
    });
  } catch (error) {
    throw new KurError(
      'build',
      `${context.what}: ${url} is not a readable tar.gz archive: ${messageOf(error)}`,
      {
        hint: releaseHint,
        cause: error,
      },
    );
  }
  for (const [binary, target] of links) {
    const source = written.get(target);
    if (source === undefined) continue;
    await fs.link(source, join(dir, binary));
    done.add(binary);
  }
  const missing = [...wanted].filter(([, binary]) => !done.has(binary)).map(([path]) => path);
  if (missing.length > 0) {
    throw new KurError('build', `${context.what}: ${url} lacks ${missing.join(', ')}`, {
      detail: `files in the archive:\n${seen.slice(0, 50).join('\n')}`,
      hint: 'The archive layout changed: fix "files" of this release in images/components.json, or use --source go.',
    });
  }
  // Make sure what was written is executable even if umask trimmed the mode.
  await Promise.all([...done].map((binary) => fs.chmod(join(dir, binary), 0o755)));
}

/** Temp directories of this entry left by a kur that was killed mid-download. */
async function removeStalePartials(target: string): Promise<void> {
  const dir = posix.dirname(target);
  const prefix = `${posix.basename(target)}.partial-`;
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const pid = Number(name.slice(prefix.length).split('-')[0]);
    if (Number.isInteger(pid) && pid > 0 && !processAlive(pid)) {
      await fs.rm(join(dir, name), { recursive: true, force: true });
    }
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, as another user's process.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
