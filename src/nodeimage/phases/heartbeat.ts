import type { StepContext } from '../../ui/progress.js';
import { formatDuration } from '../../util/duration.js';

/**
 * Long phases (mmdebstrap, compiling Kubernetes, loading a 1 GB image) can go minutes without a
 * new status. The plain renderer prints a line per status, so a phase that says nothing looks
 * hung in CI logs. While `run` works, the latest status is repeated with the elapsed time
 * whenever nothing was said for `quietMs` (checked every `tickMs`, so the longest silence is
 * about quietMs + tickMs: 25 s by default, under the 30 s promised).
 */
export const heartbeatDefaults = { quietMs: 20_000, tickMs: 5_000 };

export async function withHeartbeat<T>(
  step: StepContext,
  quietMs: number | undefined,
  run: (step: StepContext) => Promise<T>,
  tickMs?: number,
): Promise<T> {
  const quiet = quietMs ?? heartbeatDefaults.quietMs;
  const started = Date.now();
  let latest = '';
  let saidAt = started;
  const say = (text: string): void => {
    saidAt = Date.now();
    step.status(text);
  };
  const timer = setInterval(
    () => {
      const now = Date.now();
      if (now - saidAt < quiet) return;
      const elapsed = `${formatDuration(now - started)} elapsed`;
      say(latest === '' ? elapsed : `${latest} (${elapsed})`);
    },
    tickMs ?? Math.min(heartbeatDefaults.tickMs, quiet),
  );
  timer.unref();
  const context: StepContext = {
    status: (text) => {
      latest = text;
      say(text);
    },
    children: (steps, options) => step.children(steps, options),
    signal: step.signal,
  };
  try {
    return await run(context);
  } finally {
    clearInterval(timer);
  }
}
