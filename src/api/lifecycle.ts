import {
  startCluster as startClusterCore,
  stopCluster as stopClusterCore,
  type StartedCluster,
  type StoppedCluster,
} from '../cluster/lifecycle.js';
import { defaultClusterName } from '../config/names.js';
import { eachCluster, type ClusterSelection } from './clusters.js';
import {
  callLogger,
  progressListener,
  silent,
  throwIfCancelled,
  withEngine,
  type EngineOptions,
  type Presentation,
  type ProgressOptions,
} from './common.js';
import { waitMilliseconds } from './create-options.js';

export interface StopClusterOptions extends EngineOptions {
  /** The cluster to stop. Default `kur`, like the CLI. */
  name?: string;
}

/**
 * Stops a cluster's containers, like `kur stop cluster`: nodes keep their state (volumes, IPs,
 * the API server port) for `startCluster`.
 */
export async function stopCluster(options: StopClusterOptions = {}): Promise<StoppedCluster> {
  const [stopped] = await stopClusters({
    ...options,
    clusters: { name: options.name ?? defaultClusterName },
  });
  return stopped!;
}

/** `stopCluster` of each selected cluster (internal: the CLI's `--all`). */
export function stopClusters(
  options: EngineOptions & { clusters: ClusterSelection },
): Promise<StoppedCluster[]> {
  const logger = callLogger(options);
  return withEngine(options, (engine) =>
    eachCluster(engine, options.clusters, (name) => stopClusterCore({ engine, logger, name })),
  );
}

export interface StartClusterOptions extends EngineOptions, ProgressOptions {
  /** The cluster to start. Default `kur`, like the CLI. */
  name?: string;
  /**
   * How long to wait for Ready nodes and DNS: milliseconds, or a duration such as `'90s'`. `0`
   * returns once the containers run. Default `'5m'`, like `createCluster`.
   */
  wait?: number | string;
  /** Cancels the start; the promise rejects with a `KurError` of kind `cancelled`. */
  signal?: AbortSignal;
}

/** Starts a stopped cluster again, like `kur start cluster`, and waits until it serves. */
export async function startCluster(options: StartClusterOptions = {}): Promise<StartedCluster> {
  const clusters = { name: options.name ?? defaultClusterName };
  const [started] = await startClusters({ ...options, clusters }, silent);
  return started!;
}

/** `startCluster` of each selected cluster, shown the caller's way (internal: the CLI). */
export async function startClusters(
  options: Omit<StartClusterOptions, 'name'> & { clusters: ClusterSelection },
  presentation: Presentation,
): Promise<StartedCluster[]> {
  const waitMs = waitMilliseconds(options.wait);
  const what = 'name' in options.clusters ? `starting cluster ${options.clusters.name}` : 'starting clusters';
  throwIfCancelled(options.signal, what);
  const logger = callLogger(options);
  const onEvent = progressListener(options);
  return withEngine(options, (engine) =>
    eachCluster(engine, options.clusters, (name) =>
      startClusterCore({
        engine,
        logger,
        name,
        waitMs,
        renderer: presentation.renderer,
        ...(onEvent !== undefined ? { onEvent } : {}),
        ...(options.signal !== undefined ? { signal: options.signal } : {}),
      }),
    ),
  );
}
