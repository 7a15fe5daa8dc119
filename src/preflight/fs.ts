import { promises as fs, type Stats } from 'node:fs';

/** What `stat` says about a path, reduced to what the checks look at. */
export interface FileInfo {
  kind: 'file' | 'directory' | 'socket' | 'char' | 'other';
  /** Permission bits (`mode & 0o7777`). */
  mode: number;
  uid: number;
  gid: number;
}

/**
 * The host filesystem as preflight reads it, passed in so unit tests describe a host instead of
 * touching the real one. Every method answers undefined for a path that is missing or cannot be
 * read: preflight reports "could not look" and never fails because /proc or /boot said no.
 */
export interface PreflightFs {
  readFile(path: string): Promise<Buffer | undefined>;
  stat(path: string): Promise<FileInfo | undefined>;
  readdir(path: string): Promise<string[] | undefined>;
  readlink(path: string): Promise<string | undefined>;
}

async function orUndefined<T>(action: () => Promise<T>): Promise<T | undefined> {
  try {
    return await action();
  } catch {
    return undefined;
  }
}

function kindOf(stat: Stats): FileInfo['kind'] {
  if (stat.isFile()) return 'file';
  if (stat.isDirectory()) return 'directory';
  if (stat.isSocket()) return 'socket';
  if (stat.isCharacterDevice()) return 'char';
  return 'other';
}

export const realPreflightFs: PreflightFs = {
  readFile: (path) => orUndefined(() => fs.readFile(path)),
  stat: (path) =>
    orUndefined(async () => {
      const stat = await fs.stat(path);
      return { kind: kindOf(stat), mode: stat.mode & 0o7777, uid: stat.uid, gid: stat.gid };
    }),
  readdir: (path) => orUndefined(() => fs.readdir(path)),
  readlink: (path) => orUndefined(() => fs.readlink(path)),
};
