import { randomBytes } from 'node:crypto';
import type { ClusterConfig } from '../config/types.js';
import type { Engine } from '../engine/types.js';
import { generateBootstrapToken } from '../kube/tokens.js';
import {
  runSteps,
  type ProgressListener,
  type RendererKind,
  type StepContext,
  type StepTiming,
} from '../ui/progress.js';
import { KurError, isKurError, messageOf } from '../util/errors.js';
import type { Logger } from '../util/logger.js';
import { addonsPhase } from './create/addons.js';
import { claimPhase } from './create/claim.js';
import { configurePhase } from './create/configure.js';
import type { CreateRun } from './create/context.js';
import { completePhase, kubeconfigPhase } from './create/kubeconfig.js';
import { controlPlanePhase, joinPhase, podNetworkPhase, waitPhase } from './create/kubernetes.js';
import { nodeImagePhase } from './create/node-image.js';
import { nodesPhase } from './create/nodes.js';
import { Pipeline, type StateOf } from '../ui/phases.js';
import { preflightPhase } from './create/preflight.js';
import type { NodeHostFacts } from './node-spec.js';
import { Rollback } from './rollback.js';

export interface CreateClusterOptions {
  config: ClusterConfig;
  engine: Engine;
  logger: Logger;
  /** The node image for nodes that do not name one. */
  image: string;
  /** Makes sure `image` exists on the engine (builds it when missing). */
  ensureImage: (reference: string, step: StepContext) => Promise<void>;
  /** How long to wait for Ready nodes and DNS; 0 returns once kubeadm is done. */
  waitMs: number;
  /** Keep whatever was created when create fails, for debugging. */
  retain: boolean;
  /** The kubeconfig file to merge the cluster's entry into; undefined writes none. */
  kubeconfigPath: string | undefined;
  renderer: RendererKind;
  onEvent?: ProgressListener;
  signal?: AbortSignal;
  host: NodeHostFacts;
  /** The phases to run; default {@link createPhases} (unit tests swap the engine probe). */
  phases?: typeof createPhases;
}

export interface CreatedNode {
  name: string;
  role: string;
  ipv4: string;
}

export interface CreatedCluster {
  name: string;
  context: string;
  /** The API server as the host reaches it. */
  server: string;
  /** Self-contained kubeconfig text for this cluster. */
  kubeconfig: string;
  kubeconfigPath: string | undefined;
  nodes: CreatedNode[];
  kubernetesVersion: string;
  timings: StepTiming[];
}

/** The step in which the pod network, the add-ons and the joins run at once. */
export const networkAndJoinStep = { id: 'network-and-joins', title: 'Pod network, add-ons and joins' };

/**
 * Create, phase by phase: each takes what the phases before it produced. Read top to bottom,
 * this is the whole use case; every phase lives in src/cluster/create/.
 */
export const createPhases = Pipeline.start<CreateRun>()
  .then(preflightPhase)
  .then(nodeImagePhase)
  .then(claimPhase)
  .then(nodesPhase)
  .then(configurePhase)
  .then(controlPlanePhase)
  // Joins need only the control plane: they run while its pod network and add-ons are applied.
  .together(networkAndJoinStep, podNetworkPhase, addonsPhase, joinPhase)
  .then(waitPhase)
  .then(kubeconfigPhase)
  .then(completePhase);

/** Step ids of create's phases, in order: what tests and `--output json` timings match. */
export const createPhaseIds = createPhases.ids;

/**
 * Creates a cluster. Any failure or abort rolls back what this run created (unless `retain`),
 * and the error names the phase that failed.
 */
export async function createCluster(options: CreateClusterOptions): Promise<CreatedCluster> {
  const { logger, config } = options;
  const abort = new AbortController();
  const onAbort = (): void => abort.abort(options.signal?.reason);
  options.signal?.addEventListener('abort', onAbort, { once: true });
  if (options.signal?.aborted === true) onAbort();
  const run: CreateRun = {
    engine: options.engine,
    logger,
    config,
    image: options.image,
    ensureImage: options.ensureImage,
    waitMs: options.waitMs,
    kubeconfigPath: options.kubeconfigPath,
    host: options.host,
    runId: randomBytes(6).toString('hex'),
    rollback: new Rollback(),
    signal: abort.signal,
    token: generateBootstrapToken(randomBytes),
  };
  const state = {};
  let failedPhase: string[] = [];
  const work = runSteps((options.phases ?? createPhases).steps(run, state), {
    renderer: options.renderer,
    onEvent: (event) => {
      if (event.type === 'fail' && event.path.length > failedPhase.length) failedPhase = event.path;
      options.onEvent?.(event);
    },
    signal: abort.signal,
  });
  let timings: StepTiming[];
  try {
    timings = await raceAbort(work, abort.signal);
  } catch (error) {
    const interrupted = abort.signal.aborted;
    // Nothing new may start while rolling back (parallel node steps check the signal).
    if (!interrupted) abort.abort(error);
    await rollBack(run, options.retain, work);
    throw asCreateError(error, interrupted, config.name, failedPhase);
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
  }
  // Every phase ran, so the state holds every result (the pipeline's type says which).
  const done = state as StateOf<typeof createPhases>;
  return {
    name: config.name,
    context: done.plan.context,
    server: done.server,
    kubeconfig: done.kubeconfig,
    kubeconfigPath: options.kubeconfigPath,
    nodes: done.plan.nodes.map((n) => ({
      name: n.name,
      role: n.role,
      ipv4: done.claim.addresses[n.name] ?? '',
    })),
    kubernetesVersion: done.image.kubernetesVersion,
    timings,
  };
}

async function rollBack(run: CreateRun, retain: boolean, work: Promise<unknown>): Promise<void> {
  const { logger, config, rollback } = run;
  if (retain) {
    logger.warn(
      `keeping what was created for cluster ${config.name} (--retain); delete it with \`kur delete cluster --name ${config.name}\``,
    );
    return;
  }
  if (rollback.size === 0) return;
  logger.info(`Rolling back cluster ${config.name}...`);
  await rollback.run(logger);
  // A node create in flight when the failure hit may land after the first pass: wait for the
  // steps to settle (bounded), then remove again.
  await Promise.race([work.catch(() => undefined), new Promise((r) => setTimeout(r, 10_000))]);
  const leftovers = await rollback.runAgain(logger);
  if (leftovers.length > 0) logger.warn(`could not remove everything:\n  ${leftovers.join('\n  ')}`);
}

/** Rejects as soon as the signal aborts, so rollback starts without waiting for a long exec. */
function raceAbort<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void =>
      reject(signal.reason instanceof Error ? signal.reason : new Error(String(signal.reason ?? 'aborted')));
    if (signal.aborted) onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

function asCreateError(error: unknown, interrupted: boolean, name: string, phase: string[]): KurError {
  if (interrupted) {
    return new KurError('cancelled', `creating cluster ${name} was interrupted`, {
      detail: messageOf(error),
    });
  }
  const where = phase.length > 0 ? ` at "${phase.join(' > ')}"` : '';
  if (isKurError(error)) {
    return new KurError(error.kind, `creating cluster ${name} failed${where}: ${error.message}`, {
      ...(error.detail !== undefined ? { detail: error.detail } : {}),
      ...(error.hint !== undefined ? { hint: error.hint } : {}),
      cause: error,
    });
  }
  return new KurError('internal', `creating cluster ${name} failed${where}: ${messageOf(error)}`, {
    cause: error,
  });
}
