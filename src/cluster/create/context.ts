import type { ClusterConfig } from '../../config/types.js';
import type { Engine } from '../../engine/types.js';
import type { StepContext } from '../../ui/progress.js';
import type { Logger } from '../../util/logger.js';
import type { NodeHostFacts } from '../node-spec.js';
import type { Rollback } from '../rollback.js';

/** What every create phase may use: the request, the engine, and this run's identity. */
export interface CreateRun {
  engine: Engine;
  logger: Logger;
  config: ClusterConfig;
  /** The node image for nodes that do not name one. */
  image: string;
  /** Makes sure `reference` exists on the engine (builds the default image when missing). */
  ensureImage: (reference: string, step: StepContext) => Promise<void>;
  waitMs: number;
  kubeconfigPath: string | undefined;
  host: NodeHostFacts;
  /** Labels everything this run creates: rollback removes only objects carrying it. */
  runId: string;
  rollback: Rollback;
  /** Aborted on Ctrl-C or on the first failure: long waits stop at once. */
  signal: AbortSignal;
  /** The bootstrap token every node of the cluster joins with. */
  token: string;
}
