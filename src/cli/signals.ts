import type { Logger } from '../util/logger.js';

/**
 * Turns the first SIGINT/SIGTERM into an abort of `work` (which rolls back what it created);
 * a second one exits at once, for users who would rather clean up by hand.
 */
export async function abortOnSignals<T>(
  logger: Logger,
  work: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const controller = new AbortController();
  let received = 0;
  const handler = (signal: NodeJS.Signals): void => {
    received += 1;
    if (received === 1) {
      logger.warn(`${signal} received: stopping and cleaning up (press Ctrl-C again to exit at once)`);
      controller.abort(new Error(`interrupted by ${signal}`));
    } else {
      process.exit(130);
    }
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  try {
    return await work(controller.signal);
  } finally {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  }
}
