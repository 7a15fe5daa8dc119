import { labels } from '../engine/labels.js';
import type { ContainerSummary, Engine } from '../engine/types.js';
import { contextName } from '../config/names.js';
import { runSteps, type ProgressListener, type RendererKind, type StepTiming } from '../ui/progress.js';
import { isKurError, KurError, messageOf } from '../util/errors.js';
import type { Logger } from '../util/logger.js';
import { waitUntilReady } from './bootstrap.js';
import { claimFromLabels } from './claim.js';
import { apiServerEndpoint, clusterContainers, isNodeRole } from './clusters.js';
import type { CreatedNode } from './create.js';
import { waitForSystemd } from './node-ops.js';
import { nodeStopTimeoutSeconds } from './node-spec.js';
import { startRegistriesOf } from './registry/registries.js';
import { serviceLoadBalancerRole } from './service-load-balancer.js';

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

/** Step ids of start, in order. */
export const startPhaseIds = ['start-nodes', 'wait'] as const;

/**
 * Stops every container of a cluster in parallel. Nodes halt systemd (their stop signal), which
 * stops the kubelet, pods and etcd cleanly; everything they hold stays in their volumes. The
 * engine keeps a stopped container down across its own restarts (restart policy unless-stopped).
 */
export async function stopCluster(options: StopClusterOptions): Promise<StoppedCluster> {
  const { containers } = await clusterContainers(options.engine, options.name);
  await Promise.all(
    containers
      .filter((c) => c.state === 'running' || c.state === 'restarting')
      .map(async (c) => {
        try {
          await options.engine.containers.stop(c.id, { timeoutSeconds: nodeStopTimeoutSeconds });
        } catch (error) {
          // Stopped meanwhile (a concurrent stop): that is the goal.
          if (!isKurError(error, 'conflict') && !isKurError(error, 'notFound')) throw error;
        }
      }),
  );
  return { name: options.name, containers: containers.map((c) => c.name).sort() };
}

/**
 * Starts a stopped or degraded cluster and waits, like create, until every node is Ready and
 * DNS answers. Nodes come back on their claimed addresses and the API server on its port, so
 * the kubeconfig written at create still works.
 */
export async function startCluster(options: StartClusterOptions): Promise<StartedCluster> {
  const { engine, logger, name } = options;
  const found = await clusterContainers(engine, name);
  const { nodes, containers } = found;
  const claim = found.claim && claimFromLabels(found.claim.labels);
  const bootstrap = nodes.find((c) => c.name === `${name}-control-plane`) ?? nodes.find(isControlPlane);
  if (bootstrap === undefined) throw new KurError('notFound', `cluster "${name}" has no control-plane node`);
  const signal = options.signal ?? new AbortController().signal;
  // A Service's load balancer whose host port someone took meanwhile must not fail the cluster.
  const startServiceLoadBalancer = async (c: ContainerSummary): Promise<void> => {
    if (c.state === 'running') return;
    await engine.containers.start(c.id).catch((error: unknown) => {
      logger.warn(`load balancer ${c.name} did not start: ${messageOf(error)}`);
    });
  };
  await startRegistriesOf(engine, nodes, logger);
  const timings = await runSteps(
    [
      {
        id: startPhaseIds[0],
        title: 'Start nodes',
        run: (step) =>
          step.children(
            containers.map((c) => ({
              id: c.name,
              title: c.name,
              run: async () => {
                if (c.labels[labels.role] === serviceLoadBalancerRole) return startServiceLoadBalancer(c);
                if (c.state !== 'running') await engine.containers.start(c.id);
                if (!isNodeRole(c.labels[labels.role])) return;
                await waitForSystemd(engine, c, { timeoutMs: 120_000, signal, logger });
                await assertAddress(engine, c);
              },
            })),
            { concurrent: true },
          ),
      },
      {
        id: startPhaseIds[1],
        title: 'Wait for nodes and DNS',
        skip: () =>
          options.waitMs === 0 ? '--wait 0' : claim === undefined ? 'the cluster has no claim' : false,
        run: (step) =>
          waitUntilReady(engine, bootstrap, {
            expectedNodes: nodes.map((n) => n.name),
            dnsServer: claim!.clusterDns,
            timeoutMs: options.waitMs,
            signal,
            logger,
            onStatus: (text) => step.status(text),
          }),
      },
    ],
    { renderer: options.renderer, ...(options.onEvent ? { onEvent: options.onEvent } : {}), signal },
  );
  return {
    name,
    context: contextName(name),
    server: await apiServerEndpoint(engine, name, false),
    nodes: nodes.map((n) => ({
      name: n.name,
      role: n.labels[labels.role] ?? 'unknown',
      ipv4: n.labels[labels.ipv4] ?? '',
    })),
    timings,
  };
}

function isControlPlane(c: ContainerSummary): boolean {
  return c.labels[labels.role] === 'control-plane';
}

/** A node must be back on the address its configs name; anything else would talk to a stranger. */
async function assertAddress(engine: Engine, c: ContainerSummary): Promise<void> {
  const claimed = c.labels[labels.ipv4];
  if (claimed === undefined) return;
  const info = await engine.containers.inspect(c.id);
  const actual = Object.values(info.networks)[0]?.ipv4Address ?? '';
  if (actual !== claimed) {
    throw new KurError(
      'engine',
      `node ${c.name} came back on ${actual || 'no address'}, not its own ${claimed}`,
      {
        hint: 'Another container took the address. Delete and re-create the cluster.',
      },
    );
  }
}
