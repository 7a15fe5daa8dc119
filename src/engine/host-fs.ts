import { promises as fs } from 'node:fs';

/**
 * The little of the host filesystem endpoint resolution reads, passed in so unit tests describe
 * a host instead of touching the real one.
 */
export interface HostFs {
  /** File contents, or undefined when the file does not exist. */
  readFile(path: string): Promise<Buffer | undefined>;
  /** 'socket', 'other' for anything else that exists, undefined when nothing is there. */
  kind(path: string): Promise<'socket' | 'other' | undefined>;
}

export const realHostFs: HostFs = {
  async readFile(path) {
    try {
      return await fs.readFile(path);
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
  },
  async kind(path) {
    try {
      const stat = await fs.stat(path);
      return stat.isSocket() ? 'socket' : 'other';
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
  },
};

function isMissing(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}
