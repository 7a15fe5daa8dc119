import { randomBytes } from 'node:crypto';
import type { ClusterConfig } from '../config/types.js';
import { detectEngine, readEngineFacts, type EngineInfo } from '../engine/detect.js';
import { labels } from '../engine/labels.js';
import type { ContainerSpec, Engine } from '../engine/types.js';
import { caCertHash, generateBootstrapToken, generateCertificateKey } from '../kube/tokens.js';
import { nodePaths, parseNodeEnv, type NodeFacts } from '../node/layout.js';
import { kubeadmConfigFile, planCluster, type ClusterFacts, type ClusterPlan } from '../kube/plan.js';
import { nodeImageMetadata, type NodeImageMetadata } from '../nodeimage/image-labels.js';
import { assertPreflight, renderChecks, runPreflight, summarizeChecks } from '../preflight/index.js';
import {
  runSteps,
  type ProgressListener,
  type RendererKind,
  type StepContext,
  type StepTiming,
} from '../ui/progress.js';
import { KurError, isKurError, messageOf } from '../util/errors.js';
import type { Logger } from '../util/logger.js';
import {
  applyManifest,
  bootstrapNode,
  kubeadmInit,
  kubeadmJoin,
  probeCoreDnsEverySecond,
  waitUntilReady,
} from './bootstrap.js';
import { applyAddons } from './addons.js';
import { clusterDnsIp } from './dns-probe.js';
import { updateKubeconfigFile } from './kubeconfig-file.js';
import { entryFromAdminConf, mergeKubeconfig, removeKubeconfigEntry } from './kubeconfig-merge.js';
import {
  ensureClusterNetwork,
  readFile,
  removeClusterNetworkIfUnused,
  run,
  waitForSystemd,
  writeFiles,
} from './node-ops.js';
import { apiServerEndpoint } from './clusters.js';
import { removeClusterContainers } from './delete.js';
import { preflightRequest } from './preflight-request.js';
import {
  clusterNetworkName,
  loadBalancerContainerSpec,
  nodeContainerSpec,
  type NodeHostFacts,
} from './node-spec.js';
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

/** Mutable state shared by the create steps; each step fills in what the next ones read. */
interface CreateState {
  info?: EngineInfo;
  image?: NodeImageMetadata;
  plan?: ClusterPlan;
  nodeFacts?: NodeFacts;
  nodeIps: Map<string, string>;
  token: string;
  certificateKey?: string;
  server?: string;
  kubeconfig?: string;
}

/**
 * Creates a cluster: preflight, network, node containers in parallel, configs, kubeadm init,
 * CNI, joins, readiness, kubeconfig. Any failure or abort rolls back what this run created
 * (unless `retain`), and the error names the phase that failed.
 */
export async function createCluster(options: CreateClusterOptions): Promise<CreatedCluster> {
  const { engine, logger, config } = options;
  const rollback = new Rollback();
  const state: CreateState = {
    nodeIps: new Map(),
    token: generateBootstrapToken(randomBytes),
  };
  const abort = new AbortController();
  const onAbort = (): void => abort.abort(options.signal?.reason);
  options.signal?.addEventListener('abort', onAbort, { once: true });
  if (options.signal?.aborted === true) onAbort();

  const plan = (): ClusterPlan => {
    if (state.plan === undefined) throw new KurError('internal', 'create: the cluster was not planned');
    return state.plan;
  };

  const steps = [
    {
      title: 'Preflight',
      run: async (step: StepContext) => {
        step.status('checking the host');
        // Host checks first: they take milliseconds and must stop a doomed create before anything exists.
        const facts = await readEngineFacts(engine, logger);
        const report = await runPreflight({
          connection: engine.endpoint.connection,
          engine: facts,
          request: preflightRequest(config),
        });
        const { warnings } = summarizeChecks(report.results);
        if (warnings.length > 0) logger.warn(`preflight:\n${renderChecks(warnings)}`);
        assertPreflight(report.results);
        step.status('detecting the engine');
        state.info = await detectEngine(engine, { logger });
        if (state.info.privilege.kind === 'unavailable') {
          throw new KurError('preflight', 'the engine cannot start privileged containers', {
            detail: state.info.privilege.reason,
          });
        }
        await assertClusterAbsent(engine, config.name);
        step.status(`node image ${options.image}`);
        await options.ensureImage(options.image, step);
        state.image = nodeImageMetadata(await engine.images.inspect(options.image), options.image);
        state.plan = planCluster(config, clusterFacts(state.info, state.image, options.image, undefined));
        for (const node of state.plan.nodes) {
          if (node.image !== options.image) await options.ensureImage(node.image, step);
        }
      },
    },
    {
      title: 'Prepare the network',
      run: async () => {
        const { created } = await ensureClusterNetwork(engine, state.info?.bridgeMtu, logger);
        if (created) rollback.add('network', () => removeClusterNetworkIfUnused(engine, logger));
        // The name was free at preflight, so everything labelled with it from now on is this run's.
        rollback.add(`containers of cluster ${config.name}`, () =>
          removeClusterContainers(engine, config.name),
        );
      },
    },
    {
      title: 'Start nodes',
      run: (step: StepContext) =>
        step.children(
          [
            ...(plan().loadBalancer === undefined
              ? []
              : [
                  {
                    title: plan().loadBalancer!.name,
                    run: async () => {
                      const id = await createOnClusterNetwork(
                        engine,
                        loadBalancerContainerSpec(plan(), plan().loadBalancer!),
                        state.info?.bridgeMtu,
                        logger,
                      );
                      await engine.containers.start(id);
                    },
                  },
                ]),
            ...plan().nodes.map((node) => ({
              title: node.name,
              run: async (child: StepContext) => {
                const spec = nodeContainerSpec(plan(), node, state.info!, options.host);
                const id = await createOnClusterNetwork(engine, spec, state.info?.bridgeMtu, logger);
                await engine.containers.start(id);
                child.status('booting systemd');
                await waitForSystemd(engine, node, { timeoutMs: 120_000, signal: abort.signal, logger });
                const info = await engine.containers.inspect(id);
                const ip = Object.values(info.networks)[0]?.ipv4Address ?? '';
                if (ip === '') throw new KurError('engine', `node ${node.name} has no IPv4 address`);
                state.nodeIps.set(node.name, ip);
              },
            })),
          ],
          { concurrent: true },
        ),
    },
    {
      title: 'Configure nodes',
      run: async (step: StepContext) => {
        // The entrypoint found out what this host allows (snapshotter, writable cgroups): plan again with it.
        const first = plan().nodes[0]!;
        state.nodeFacts = parseNodeEnv(await readFile(engine, first, nodePaths.nodeEnv));
        if (!state.nodeFacts.cgroupWritable) {
          logger.warn(
            'DEGRADED MODE: the nodes cannot write cgroups (a rootless engine without delegated cgroup controllers). ' +
              'Pods run without CPU, memory or pid limits and without OOM isolation; resource stats show the whole node. ' +
              'Fine for tests of behaviour, not of resource use. See "Rootless" in the README for the host fix.',
          );
        }
        state.plan = planCluster(
          config,
          clusterFacts(state.info!, state.image!, options.image, state.nodeFacts),
        );
        if (plan().loadBalancer !== undefined) state.certificateKey = generateCertificateKey(randomBytes);
        await step.children(
          plan().nodes.map((node) => ({
            title: node.name,
            run: async () => {
              await writeFiles(engine, node, node.files);
              // containerd started at boot with the image's default config; load kur's.
              await run(engine, node, ['systemctl', 'restart', 'containerd']);
            },
          })),
          { concurrent: true },
        );
      },
    },
    {
      title: 'Start the control plane',
      run: async () => {
        const node = bootstrapNode(plan());
        const file = kubeadmConfigFile(plan(), node.name, {
          nodeIP: state.nodeIps.get(node.name)!,
          token: state.token,
          ...(state.certificateKey !== undefined ? { certificateKey: state.certificateKey } : {}),
        });
        await writeFiles(engine, node, [file]);
        await kubeadmInit(engine, node, state.certificateKey !== undefined);
        await probeCoreDnsEverySecond(engine, node);
      },
    },
    {
      title: 'Install the pod network (Flannel VXLAN)',
      skip: () => (state.plan?.cni === 'none' ? 'disableDefaultCNI is set' : false),
      run: () => applyManifest(engine, bootstrapNode(plan()), nodePaths.flannelManifest),
    },
    {
      // Applied, not waited for: the cluster is usable before the add-on pods run.
      title: 'Apply add-ons (default StorageClass, NetworkPolicy)',
      run: async () => {
        await applyAddons(engine, bootstrapNode(plan()), plan(), logger);
      },
    },
    {
      title: 'Join nodes',
      skip: () => (state.plan !== undefined && state.plan.nodes.length === 1 ? 'a single node' : false),
      run: async (step: StepContext) => {
        const bootstrap = bootstrapNode(plan());
        const hash = caCertHash(await readFile(engine, bootstrap, nodePaths.caCertificate));
        const joining = plan().nodes.filter((n) => !n.bootstrap);
        const join = (name: string) => async () => {
          const node = plan().nodes.find((n) => n.name === name)!;
          const file = kubeadmConfigFile(plan(), name, {
            nodeIP: state.nodeIps.get(name)!,
            token: state.token,
            caCertHashes: [hash],
            ...(state.certificateKey !== undefined ? { certificateKey: state.certificateKey } : {}),
          });
          await writeFiles(engine, node, [file]);
          await kubeadmJoin(engine, node);
        };
        // Control planes join one at a time (etcd membership changes are serial); workers together.
        const controlPlanes = joining.filter((n) => n.role === 'control-plane');
        if (controlPlanes.length > 0) {
          await step.children(controlPlanes.map((n) => ({ title: n.name, run: join(n.name) })));
        }
        const workers = joining.filter((n) => n.role !== 'control-plane');
        await step.children(
          workers.map((n) => ({ title: n.name, run: join(n.name) })),
          { concurrent: true },
        );
      },
    },
    {
      title: 'Wait for nodes and DNS',
      skip: () => (options.waitMs === 0 ? '--wait 0' : false),
      run: (step: StepContext) =>
        waitUntilReady(engine, bootstrapNode(plan()), {
          expectedNodes: plan().nodes.map((n) => n.name),
          dnsServer: clusterDnsIp(config.networking.serviceSubnet),
          timeoutMs: options.waitMs,
          signal: abort.signal,
          logger,
          onStatus: (text) => step.status(text),
        }),
    },
    {
      title: 'Write the kubeconfig',
      run: async () => {
        const node = bootstrapNode(plan());
        state.server = await apiServerEndpoint(engine, config.name, false);
        const entry = entryFromAdminConf(
          await readFile(engine, node, nodePaths.adminKubeconfig),
          plan().context,
          state.server,
        );
        state.kubeconfig = mergeKubeconfig(undefined, entry);
        if (options.kubeconfigPath !== undefined) {
          const path = options.kubeconfigPath;
          rollback.add(`kubeconfig entry ${plan().context} in ${path}`, () =>
            updateKubeconfigFile(path, (existing) => removeKubeconfigEntry(existing, plan().context, path)),
          );
          await updateKubeconfigFile(path, (existing) => mergeKubeconfig(existing, entry, path));
        }
      },
    },
  ];

  let failedPhase: string[] = [];
  const work = runSteps(steps, {
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
    const failure = asCreateError(error, interrupted, config.name, failedPhase);
    if (options.retain) {
      logger.warn(
        `keeping what was created for cluster ${config.name} (--retain); delete it with \`kur delete cluster --name ${config.name}\``,
      );
    } else if (rollback.size > 0) {
      logger.info(`Rolling back cluster ${config.name}...`);
      await rollback.run(logger);
      // A node create in flight when the failure hit may land after the first pass: wait for the
      // steps to settle (bounded), then remove again.
      await Promise.race([work.catch(() => undefined), new Promise((r) => setTimeout(r, 10_000))]);
      const leftovers = await rollback.runAgain(logger);
      if (leftovers.length > 0) {
        logger.warn(`could not remove everything:\n  ${leftovers.join('\n  ')}`);
      }
    }
    throw failure;
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
  }

  return {
    name: config.name,
    context: plan().context,
    server: state.server!,
    kubeconfig: state.kubeconfig!,
    kubeconfigPath: options.kubeconfigPath,
    nodes: plan().nodes.map((n) => ({ name: n.name, role: n.role, ipv4: state.nodeIps.get(n.name) ?? '' })),
    kubernetesVersion: state.image!.kubernetesVersion,
    timings,
  };
}

function clusterFacts(
  info: EngineInfo,
  image: NodeImageMetadata,
  nodeImage: string,
  node: NodeFacts | undefined,
): ClusterFacts {
  const cgroupVersion = node?.cgroupVersion ?? info.cgroupVersion ?? 2;
  // systemd is PID 1 in every node and owns the node's cgroups when it can write them.
  const noCgroups = node !== undefined && !node.cgroupWritable;
  return {
    rootless: info.rootless,
    cgroupVersion,
    cgroupDriver: noCgroups ? 'cgroupfs' : 'systemd',
    snapshotter: (node?.snapshotter ?? 'overlayfs') as ClusterFacts['snapshotter'],
    provider: info.provider,
    kubernetesVersion: image.kubernetesVersion,
    images: { node: nodeImage, pause: image.pauseImage, flannel: image.flannelImage },
    ...(noCgroups ? { noCgroups: true } : {}),
    // Lowering oom_score_adj (the pause container asks for -998) needs CAP_SYS_RESOURCE.
    ...(node !== undefined && !node.capSysResource ? { restrictOomScoreAdj: true } : {}),
  };
}

/**
 * Creates a container on the shared network. Deleting the last other cluster removes that
 * network, and can do so between this create's network step and its containers: then the
 * network is made again and the create retried once.
 */
async function createOnClusterNetwork(
  engine: Engine,
  spec: ContainerSpec,
  mtu: number | undefined,
  logger: Logger,
): Promise<string> {
  try {
    return await engine.containers.create(spec);
  } catch (error) {
    if (!isKurError(error, 'notFound') || !/network/i.test(`${error.message} ${error.detail ?? ''}`))
      throw error;
    logger.debug(`network ${clusterNetworkName} vanished before ${spec.name} was created; making it again`);
    await ensureClusterNetwork(engine, mtu, logger);
    return engine.containers.create(spec);
  }
}

async function assertClusterAbsent(engine: Engine, name: string): Promise<void> {
  const existing = await engine.containers.list({ labels: { [labels.cluster]: name } });
  if (existing.length > 0) {
    throw new KurError(
      'conflict',
      `a cluster named "${name}" already exists (${existing.map((c) => c.name).join(', ')})`,
      {
        hint: `Delete it with \`kur delete cluster --name ${name}\`, or choose another name with --name.`,
      },
    );
  }
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
