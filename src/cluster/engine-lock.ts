import { hostname } from 'node:os';
import { labels } from '../engine/labels.js';
import type { Engine } from '../engine/types.js';
import { isKurError, KurError } from '../util/errors.js';
import type { Logger } from '../util/logger.js';

/**
 * A mutex shared by every kur process that talks to one engine, local or remote: a container
 * name can exist once per engine, so creating the (never started) lock container acquires it and
 * removing it releases it. It guards the few hundred milliseconds in which a create reads which
 * addresses and ports other clusters hold and records its own.
 */
export const lockContainerName = 'kur-address-lock';

/** A holder that died inside the critical section (SIGKILL) leaves its lock; older than this, it is broken. */
const staleAfterMs = 60_000;

export interface LockOptions {
  /** An image the engine has (the node image): a created container needs one. */
  image: string;
  logger: Logger;
  timeoutMs?: number;
  signal?: AbortSignal;
}

export async function withEngineLock<T>(
  engine: Engine,
  options: LockOptions,
  work: () => Promise<T>,
): Promise<T> {
  const id = await acquire(engine, options);
  try {
    return await work();
  } finally {
    // With its anonymous volumes: an image that declares a VOLUME (the registry's) gives the
    // never-started lock container one, and it would outlive the container.
    await engine.containers.remove(id, { force: true, volumes: true }).catch((error: unknown) => {
      if (!isKurError(error, 'notFound'))
        options.logger.warn(`could not release ${lockContainerName}: ${String(error)}`);
    });
  }
}

async function acquire(engine: Engine, options: LockOptions): Promise<string> {
  const deadline = Date.now() + (options.timeoutMs ?? 120_000);
  for (let attempt = 0; ; attempt += 1) {
    options.signal?.throwIfAborted();
    try {
      return await engine.containers.create({
        name: lockContainerName,
        image: options.image,
        entrypoint: ['/bin/true'],
        cmd: [],
        labels: {
          [labels.managed]: 'true',
          'dev.kur.lock.holder': `${hostname()}:${process.pid}`,
          'dev.kur.lock.since': String(Date.now()),
        },
      });
    } catch (error) {
      if (!isKurError(error, 'conflict')) throw error;
    }
    await breakIfStale(engine, options.logger);
    if (Date.now() > deadline) {
      throw new KurError('conflict', `another kur process holds ${lockContainerName} on this engine`, {
        hint: `If no kur is running, remove the container ${lockContainerName}.`,
      });
    }
    await new Promise((resolve) => setTimeout(resolve, Math.min(25 * 2 ** attempt, 250)));
  }
}

async function breakIfStale(engine: Engine, logger: Logger): Promise<void> {
  try {
    const info = await engine.containers.inspect(lockContainerName);
    const since = Number(info.labels['dev.kur.lock.since'] ?? 0);
    if (Date.now() - since > staleAfterMs) {
      logger.warn(
        `breaking a stale ${lockContainerName} held by ${info.labels['dev.kur.lock.holder'] ?? '?'}`,
      );
      await engine.containers.remove(info.id, { force: true, volumes: true });
    }
  } catch (error) {
    if (!isKurError(error, 'notFound')) throw error;
  }
}
