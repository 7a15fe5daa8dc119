import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

/**
 * kur's cache: `${XDG_CACHE_HOME:-~/.cache}/kur/<area>/<key>`. An entry appears only when it is
 * complete: producers write into a temp path that is renamed into place at the end, so a failed
 * or interrupted build never leaves a partial entry that a later run would trust.
 */
export function cacheRoot(env: NodeJS.ProcessEnv = process.env, home: string = homedir()): string {
  if (env.KUR_CACHE_DIR !== undefined && env.KUR_CACHE_DIR !== '') return env.KUR_CACHE_DIR;
  const base =
    env.XDG_CACHE_HOME !== undefined && env.XDG_CACHE_HOME !== '' ? env.XDG_CACHE_HOME : join(home, '.cache');
  return join(base, 'kur');
}

/** A stable short key from the inputs that decide an entry's content. */
export function cacheKey(...parts: (string | Buffer)[]): string {
  const hash = createHash('sha256');
  for (const part of parts) {
    hash.update(part);
    hash.update('\0');
  }
  return hash.digest('hex').slice(0, 24);
}

export async function exists(path: string): Promise<boolean> {
  try {
    await fs.access(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Returns `path` when it exists; otherwise runs `produce(tempPath)` and renames the result into
 * place. `tempPath` may be a file or a directory. Whatever `produce` leaves behind on failure is
 * removed.
 */
export async function cachedEntry(
  path: string,
  produce: (tempPath: string) => Promise<void>,
): Promise<{ path: string; hit: boolean }> {
  if (await exists(path)) return { path, hit: true };
  await fs.mkdir(dirname(path), { recursive: true });
  const temp = `${path}.partial-${process.pid}-${Date.now()}`;
  try {
    await produce(temp);
    await fs.rename(temp, path);
  } catch (error) {
    await fs.rm(temp, { recursive: true, force: true });
    // Another process produced the same directory entry meanwhile (two builds at once): use it.
    const code = (error as NodeJS.ErrnoException).code;
    if ((code === 'ENOTEMPTY' || code === 'EEXIST') && (await exists(path))) return { path, hit: true };
    throw error;
  }
  return { path, hit: false };
}

/** sha256 of a file, streamed. */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  const handle = await fs.open(path, 'r');
  try {
    for await (const chunk of handle.createReadStream()) hash.update(chunk as Buffer);
  } finally {
    await handle.close();
  }
  return hash.digest('hex');
}
