import { connectEngine } from '../engine/connect.js';
import type { Engine } from '../engine/types.js';
import type { ProgressEvent, ProgressListener, RendererKind } from '../ui/progress.js';
import { KurError } from '../util/errors.js';
import { silentLogger, type Logger } from '../util/logger.js';

/** Where the engine is and how to report: shared by every library call. */
export interface EngineOptions {
  /**
   * Engine endpoint, e.g. `unix:///run/user/1000/podman/podman.sock` or `tcp://host:2376`, like
   * the CLI's `--host`. Default: the CLI's search (`KUR_HOST`, `DOCKER_HOST`, `CONTAINER_HOST`,
   * the Docker context, then the usual Docker and Podman sockets), each probed with an API call.
   */
  host?: string;
  /**
   * Environment for endpoint resolution (`KUR_HOST`, `DOCKER_HOST`, `KUR_PROVIDER`, ...), the
   * node image cache (`XDG_CACHE_HOME`) and image builds. Default `process.env`, copied when the
   * call starts.
   */
  env?: Record<string, string | undefined>;
  /**
   * Receives diagnostics (`debug`, `info`, `warn`). Default: silent. Use `createLogger('info')`
   * for the CLI's stderr output.
   */
  logger?: Logger;
}

/** Something progress events can be emitted on, such as a Node.js `EventEmitter`. */
export interface ProgressEmitter {
  emit(eventName: 'progress', event: ProgressEvent): unknown;
}

/** Progress reporting for long calls (create, node image build); nothing is written to a terminal. */
export interface ProgressOptions {
  /** Called for every step event: `start`, `status`, `done`, `skip`, `fail`, with the step's path. */
  onProgress?: ProgressListener;
  /** Receives every step event as `emit('progress', event)`, e.g. an `EventEmitter`. */
  progress?: ProgressEmitter;
}

/** One listener that feeds the callback and the emitter; undefined when neither is given. */
export function progressListener(options: ProgressOptions): ProgressListener | undefined {
  const { onProgress, progress } = options;
  if (onProgress === undefined && progress === undefined) return undefined;
  return (event) => {
    onProgress?.(event);
    progress?.emit('progress', event);
  };
}

/** The environment a call uses: a copy, so later changes to `process.env` cannot redirect it. */
export function callEnv(options: EngineOptions): Record<string, string | undefined> {
  return { ...(options.env ?? process.env) };
}

export function callLogger(options: EngineOptions): Logger {
  return options.logger ?? silentLogger;
}

/** Opens the engine for one call and closes it when `use` settles. */
export async function withEngine<T>(options: EngineOptions, use: (engine: Engine) => Promise<T>): Promise<T> {
  const engine = await connectEngine({
    host: options.host,
    env: callEnv(options),
    logger: callLogger(options),
  });
  try {
    return await use(engine);
  } finally {
    engine.close();
  }
}

/** An abort before any work starts: the same error an abort during a create gives. */
export function throwIfCancelled(signal: AbortSignal | undefined, what: string): void {
  if (signal?.aborted !== true) return;
  const reason: unknown = signal.reason;
  throw new KurError('cancelled', `${what} was cancelled before it started`, {
    ...(reason instanceof Error ? { detail: reason.message, cause: reason } : {}),
  });
}

/**
 * How a long call shows its steps. Internal: the CLI picks a terminal renderer; library callers
 * get events only (`silent`).
 */
export interface Presentation {
  renderer: RendererKind;
}

export const silent: Presentation = { renderer: 'silent' };
