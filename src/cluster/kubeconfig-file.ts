import { promises as fs, constants as fsConstants } from 'node:fs';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { KurError, messageOf } from '../util/errors.js';
import { inspectLock } from './kubeconfig-check.js';

/**
 * Read-modify-write of a kubeconfig file under a lock file, so two kur (or kubectl) processes
 * never lose each other's entries. The result is written to a temp file and renamed: a crash
 * leaves the old file, never half a file. Mode 0600: it holds client keys.
 */
export interface LockOptions {
  timeoutMs?: number;
  pollMs?: number;
}

export async function updateKubeconfigFile(
  path: string,
  edit: (existing: string | undefined) => string,
  options: LockOptions = {},
): Promise<void> {
  await fs.mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const lock = `${path}.lock`;
  await acquireLock(lock, options);
  try {
    const existing = await readIfExists(path);
    const next = edit(existing);
    const temp = `${path}.kur-${process.pid}.tmp`;
    await fs.writeFile(temp, next, { mode: 0o600 });
    await fs.chmod(temp, 0o600);
    await fs.rename(temp, path);
  } finally {
    await fs.rm(lock, { force: true });
  }
}

export async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await fs.readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new KurError('config', `cannot read kubeconfig ${path}: ${messageOf(error)}`);
  }
}

async function acquireLock(lock: string, { timeoutMs = 10_000, pollMs = 100 }: LockOptions): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      // kubectl's client-go uses the same `<file>.lock` convention, created exclusively. kur
      // writes its PID and host into it, so a lock left by a crash can be told from a live one.
      const handle = await fs.open(
        lock,
        fsConstants.O_CREAT | fsConstants.O_EXCL | fsConstants.O_WRONLY,
        0o600,
      );
      try {
        await handle.writeFile(`${process.pid} ${hostname()}\n`);
      } finally {
        await handle.close();
      }
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new KurError('config', `cannot lock ${lock}: ${messageOf(error)}`);
      }
      const state = await inspectLock(lock);
      if (state?.state === 'stale') {
        throw new KurError('conflict', `kubeconfig lock ${lock} is stale: ${state.reason}`, {
          hint: `No process holds it any more: remove it (rm ${lock}) and try again.`,
        });
      }
      if (Date.now() > deadline) {
        throw new KurError(
          'conflict',
          `kubeconfig lock ${lock} is held: ${state?.reason ?? 'it is in use'}`,
          {
            hint: `Wait for that process to finish; if none is running, remove ${lock} and try again.`,
          },
        );
      }
      await new Promise((resolve) => setTimeout(resolve, pollMs));
    }
  }
}
