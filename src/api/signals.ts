/** What a client does when SIGINT or SIGTERM arrives during work that can roll back. */
export interface SignalPolicy {
  /** Says what happens now (the CLI warns on stderr, the action writes a `::warning::`). */
  notice(signal: NodeJS.Signals, count: number): void;
  /** Exit at once (130) on the second signal, for users who would rather clean up by hand. */
  exitOnSecond: boolean;
}

/**
 * Turns SIGINT/SIGTERM into an abort of `work`, which then rolls back what it created. The
 * handlers live only as long as `work`, so a finished command exits normally on Ctrl-C.
 */
export async function abortOnSignals<T>(
  policy: SignalPolicy,
  work: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const controller = new AbortController();
  let received = 0;
  const handler = (signal: NodeJS.Signals): void => {
    received += 1;
    if (received > 1 && policy.exitOnSecond) process.exit(130);
    policy.notice(signal, received);
    controller.abort(new Error(`interrupted by ${signal}`));
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
