import { createHash, randomBytes } from 'node:crypto';
import { promises as nodeFs } from 'node:fs';
import { dirname, join } from 'node:path';
import type { ResolvedEndpoint } from './types.js';

/**
 * What kur learns about an engine before a run (its facts and the privilege probe, which starts
 * throwaway containers) does not change between runs unless the engine does. It is kept in
 * `${cacheRoot}/engines/<endpoint>.json`, one file per endpoint, keyed by everything that would
 * change it:
 * - kur's version (a new kur may probe differently) and the uid kur runs as;
 * - the endpoint address and the engine's whole `/version` answer (engine, runtime and
 *   containerd/conmon versions, kernel, architecture), which kur has read anyway to connect;
 * - for a unix socket, the engine instance: the host's boot id, the socket file's inode and
 *   change time (an engine that restarts binds a new socket), and the `docker.pid` file next to
 *   it (dockerd rewrites it on every start, also when systemd keeps the socket across restarts).
 * A changed key is a miss, and the entry is replaced. Entries also expire after `maxAgeMs`, for
 * changes none of this can see (a remote engine reconfigured and restarted behind a tcp address).
 *
 * Writes go to a temp file that is renamed into place, so a reader sees a whole entry or the old
 * one, never a torn file; several kur processes writing at once each write a whole, equivalent
 * entry and the last rename wins. An unreadable or foreign entry is a miss, never an error.
 */

export interface EngineCacheFs {
  /** File text, or undefined when it does not exist. */
  readFile(path: string): Promise<string | undefined>;
  /** inode and change/modification times (ms), or undefined when nothing is there. */
  stat(path: string): Promise<{ ino: number; ctimeMs: number; mtimeMs: number } | undefined>;
  /** Writes `data` to `path` atomically (temp file + rename), creating the directory. */
  writeFileAtomic(path: string, data: string): Promise<void>;
  remove(path: string): Promise<void>;
}

export const realEngineCacheFs: EngineCacheFs = {
  async readFile(path) {
    try {
      return await nodeFs.readFile(path, 'utf8');
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
  },
  async stat(path) {
    try {
      const s = await nodeFs.stat(path);
      return { ino: s.ino, ctimeMs: s.ctimeMs, mtimeMs: s.mtimeMs };
    } catch (error) {
      if (isMissing(error) || (error as NodeJS.ErrnoException).code === 'EACCES') return undefined;
      throw error;
    }
  },
  async writeFileAtomic(path, data) {
    await nodeFs.mkdir(dirname(path), { recursive: true, mode: 0o700 });
    const temp = `${path}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`;
    try {
      await nodeFs.writeFile(temp, data, { mode: 0o600 });
      await nodeFs.rename(temp, path);
    } catch (error) {
      await nodeFs.rm(temp, { force: true });
      throw error;
    }
  },
  async remove(path) {
    await nodeFs.rm(path, { force: true });
  },
};

function isMissing(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

export interface EngineCacheOptions {
  /** `${cacheRoot}/engines`. */
  dir: string;
  fs?: EngineCacheFs;
  /** Milliseconds since the epoch; injected by tests. */
  now?: () => number;
  /** Entries older than this are misses. */
  maxAgeMs?: number;
}

export const defaultMaxAgeMs = 24 * 60 * 60 * 1000;
const formatVersion = 1;

/** What identifies an engine instance; everything here is read without asking the engine. */
export interface EngineKeyInput {
  kurVersion: string;
  kurUid: number;
  endpoint: Pick<ResolvedEndpoint, 'address' | 'provider' | 'versionPayload' | 'connection'>;
}

export const bootIdPath = '/proc/sys/kernel/random/boot_id';

/** The cache key of an engine, as a hex digest (the parts it is made of are listed above). */
export async function engineCacheKey(
  input: EngineKeyInput,
  fs: EngineCacheFs = realEngineCacheFs,
): Promise<string> {
  const { endpoint } = input;
  const parts: Record<string, unknown> = {
    format: formatVersion,
    kur: input.kurVersion,
    uid: input.kurUid,
    address: endpoint.address,
    provider: endpoint.provider,
    version: canonical(endpoint.versionPayload),
  };
  if (endpoint.connection.kind === 'unix') {
    const socketPath = endpoint.connection.socketPath;
    const pidFile = join(dirname(socketPath), 'docker.pid');
    const [bootId, socket, pid, pidStat] = await Promise.all([
      fs.readFile(bootIdPath),
      fs.stat(socketPath),
      fs.readFile(pidFile).catch(() => undefined),
      fs.stat(pidFile),
    ]);
    parts.boot = bootId?.trim();
    parts.socket = socket === undefined ? null : [socket.ino, socket.ctimeMs];
    parts.pid = pid === undefined ? null : [pid.trim(), pidStat?.mtimeMs ?? null];
  }
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex');
}

/** JSON with sorted keys, so the same payload always hashes the same. */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, canonical((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}

interface Entry<T> {
  format: number;
  key: string;
  savedAt: number;
  value: T;
}

export class EngineCache<T> {
  private readonly fs: EngineCacheFs;
  private readonly now: () => number;
  private readonly maxAgeMs: number;

  constructor(private readonly options: EngineCacheOptions) {
    this.fs = options.fs ?? realEngineCacheFs;
    this.now = options.now ?? Date.now;
    this.maxAgeMs = options.maxAgeMs ?? defaultMaxAgeMs;
  }

  /** One file per endpoint address: a changed engine replaces its entry instead of adding one. */
  pathFor(address: string): string {
    const name = createHash('sha256').update(address).digest('hex').slice(0, 16);
    return join(this.options.dir, `${name}.json`);
  }

  /** The cached value when the entry exists, has this key and is fresh; undefined otherwise. */
  async get(address: string, key: string): Promise<{ value: T; ageMs: number } | undefined> {
    let text: string | undefined;
    try {
      text = await this.fs.readFile(this.pathFor(address));
    } catch {
      return undefined;
    }
    if (text === undefined) return undefined;
    let entry: Partial<Entry<T>> | null;
    try {
      entry = JSON.parse(text) as Partial<Entry<T>> | null;
    } catch {
      return undefined;
    }
    if (entry === null || typeof entry !== 'object') return undefined;
    if (entry.format !== formatVersion || entry.key !== key || typeof entry.savedAt !== 'number')
      return undefined;
    const ageMs = this.now() - entry.savedAt;
    // A clock set back makes a negative age: treat it as stale too.
    if (ageMs < 0 || ageMs > this.maxAgeMs || entry.value === undefined) return undefined;
    return { value: entry.value, ageMs };
  }

  async set(address: string, key: string, value: T): Promise<void> {
    const entry: Entry<T> = { format: formatVersion, key, savedAt: this.now(), value };
    await this.fs.writeFileAtomic(this.pathFor(address), `${JSON.stringify(entry, null, 2)}\n`);
  }

  async forget(address: string): Promise<void> {
    await this.fs.remove(this.pathFor(address));
  }
}
