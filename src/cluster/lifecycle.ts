import type { Engine } from '../engine/types.js';
import type { ProgressListener, RendererKind, StepTiming } from '../ui/progress.js';
import { KurError } from '../util/errors.js';
import type { Logger } from '../util/logger.js';
import type { CreatedNode } from './create.js';

/** Stop and start of an existing cluster: state kept in the node containers and their volumes. */
export interface StopClusterOptions {
  engine: Engine;
  logger: Logger;
  name: string;
}

export interface StoppedCluster {
  name: string;
  /** Containers stopped (nodes and load balancer); already stopped ones are listed too. */
  containers: string[];
}

export interface StartClusterOptions {
  engine: Engine;
  logger: Logger;
  name: string;
  /** How long to wait for Ready nodes and DNS; 0 returns once the containers run. */
  waitMs: number;
  renderer: RendererKind;
  onEvent?: ProgressListener;
  signal?: AbortSignal;
}

export interface StartedCluster {
  name: string;
  context: string;
  /** The API server as the host reaches it (the same port as at create). */
  server: string;
  nodes: CreatedNode[];
  timings: StepTiming[];
}

export function stopCluster(options: StopClusterOptions): Promise<StoppedCluster> {
  return Promise.reject(new KurError('internal', `stop of ${options.name}: not implemented yet`));
}

export function startCluster(options: StartClusterOptions): Promise<StartedCluster> {
  return Promise.reject(new KurError('internal', `start of ${options.name}: not implemented yet`));
}
