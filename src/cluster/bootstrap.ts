import type { Engine } from '../engine/types.js';
import { controllerManagerKubeconfigScript } from '../kube/kubeadm.js';
import type { ClusterPlan, NodePlan } from '../kube/plan.js';
import { nodePaths } from '../node/layout.js';
import { KurError, isKurError } from '../util/errors.js';
import type { Logger } from '../util/logger.js';
import { dnsProbeScript, dnsQuery, parseDnsReply } from './dns-probe.js';
import { run, tryRun, type NodeRef } from './node-ops.js';

/**
 * Kubernetes bootstrap inside running, configured nodes: kubeadm init on the bootstrap control
 * plane, the CNI manifest, joins, and the wait until the cluster is usable. Every command runs in
 * a node through the engine's exec API; kur needs no kubectl on the host.
 */
const kubectl = ['kubectl', `--kubeconfig=${nodePaths.adminKubeconfig}`];

export function bootstrapNode(plan: ClusterPlan): NodePlan {
  const node = plan.nodes.find((n) => n.bootstrap);
  if (node === undefined)
    throw new KurError('internal', `cluster ${plan.name} has no bootstrap control plane`);
  return node;
}

export async function kubeadmInit(engine: Engine, node: NodeRef, withCertificateKey: boolean): Promise<void> {
  // One control plane (no certificate key to share): its controller manager gets a system:masters
  // kubeconfig, as the config's use-service-account-credentials=false expects (src/kube/kubeadm.ts).
  if (!withCertificateKey) {
    await run(engine, node, ['bash', '-c', controllerManagerKubeconfigScript(nodePaths.kubeadmConfig)]);
  }
  await run(engine, node, [
    'kubeadm',
    'init',
    `--config=${nodePaths.kubeadmConfig}`,
    '--skip-token-print',
    ...(withCertificateKey ? ['--upload-certs'] : []),
    '--v=1',
  ]);
}

/** Asks the cluster DNS service for kubernetes.default from the node: NOERROR with an answer. */
export async function clusterDnsAnswers(engine: Engine, node: NodeRef, server: string): Promise<boolean> {
  const result = await engine.containers.exec(node.name, {
    cmd: ['bash', '-c', dnsProbeScript, 'dns-probe', server],
    stdin: dnsQuery('kubernetes.default.svc.cluster.local'),
    timeoutMs: 10_000,
  });
  const reply = parseDnsReply(result.stdout);
  return reply !== undefined && reply.rcode === 0 && reply.answers > 0;
}

export async function kubeadmJoin(engine: Engine, node: NodeRef): Promise<void> {
  await run(engine, node, ['kubeadm', 'join', `--config=${nodePaths.kubeadmConfig}`, '--v=1']);
}

/** Applies a manifest file that is already in the node. */
export async function applyManifest(engine: Engine, node: NodeRef, path: string): Promise<void> {
  await run(engine, node, [...kubectl, 'apply', '-f', path]);
}

export async function kubectlJson<T>(engine: Engine, node: NodeRef, args: string[]): Promise<T> {
  const out = await run(engine, node, [...kubectl, ...args, '-o', 'json'], { timeoutMs: 30_000 });
  return JSON.parse(out) as T;
}

interface NodeList {
  items: {
    metadata: { name: string };
    status?: { conditions?: { type: string; status: string; reason?: string; message?: string }[] };
  }[];
}

interface EndpointSliceList {
  items: { endpoints?: { conditions?: { ready?: boolean } }[] | null }[];
}

export interface ReadinessState {
  readyNodes: string[];
  notReady: { name: string; reason: string }[];
  dnsReady: boolean;
}

/** Node readiness and whether CoreDNS has a ready endpoint (its readiness probe passes once it serves). */
export async function readiness(engine: Engine, node: NodeRef): Promise<ReadinessState> {
  const [nodes, slices] = await Promise.all([
    kubectlJson<NodeList>(engine, node, ['get', 'nodes']),
    kubectlJson<EndpointSliceList>(engine, node, [
      '-n',
      'kube-system',
      'get',
      'endpointslices',
      '-l',
      'kubernetes.io/service-name=kube-dns',
    ]),
  ]);
  const readyNodes: string[] = [];
  const notReady: { name: string; reason: string }[] = [];
  for (const item of nodes.items) {
    const ready = item.status?.conditions?.find((c) => c.type === 'Ready');
    if (ready?.status === 'True') readyNodes.push(item.metadata.name);
    else
      notReady.push({
        name: item.metadata.name,
        reason: ready?.message ?? ready?.reason ?? 'not reported yet',
      });
  }
  const dnsReady = slices.items.some((s) => (s.endpoints ?? []).some((e) => e.conditions?.ready === true));
  return { readyNodes, notReady, dnsReady };
}

export interface WaitReadyOptions {
  expectedNodes: string[];
  /** The cluster DNS service address, asked a real question once CoreDNS reports ready. */
  dnsServer: string;
  timeoutMs: number;
  signal?: AbortSignal;
  logger: Logger;
  onStatus?: (text: string) => void;
}

/** Polls until every node is Ready and CoreDNS has a ready endpoint. */
export async function waitUntilReady(
  engine: Engine,
  node: NodeRef,
  options: WaitReadyOptions,
): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  let last: ReadinessState | undefined;
  let lastError = '';
  for (;;) {
    options.signal?.throwIfAborted();
    try {
      last = await readiness(engine, node);
      const missing = options.expectedNodes.filter((n) => !last!.readyNodes.includes(n));
      options.onStatus?.(
        `${last.readyNodes.length}/${options.expectedNodes.length} nodes Ready, DNS ${last.dnsReady ? 'ready' : 'not ready'}`,
      );
      if (missing.length === 0 && last.dnsReady) {
        if (await clusterDnsAnswers(engine, node, options.dnsServer)) return;
        options.onStatus?.(`all nodes Ready; ${options.dnsServer} does not answer yet`);
      }
    } catch (error) {
      // The API server can be briefly unavailable right after joins; keep polling.
      if (!isKurError(error)) throw error;
      lastError = error.message;
    }
    if (Date.now() > deadline) {
      const detail =
        last === undefined
          ? lastError
          : [
              ...last.notReady.map((n) => `node ${n.name}: ${n.reason}`),
              `CoreDNS ${last.dnsReady ? 'ready' : 'has no ready endpoint'}`,
            ].join('\n');
      const pods = await tryRun(engine, node, [...kubectl, 'get', 'pods', '-A', '-o', 'wide'], 15_000).catch(
        () => undefined,
      );
      throw new KurError('timeout', `the cluster did not become ready in time`, {
        detail: pods === undefined ? detail : `${detail}\n\n${pods.stdout}${pods.stderr}`,
        hint: 'Raise --wait, or create with --retain and look at `kur export logs`.',
      });
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}
