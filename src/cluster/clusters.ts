import { contextName } from '../config/names.js';
import { labels } from '../engine/labels.js';
import type { ContainerSummary, Engine } from '../engine/types.js';
import { nodePaths } from '../node/layout.js';
import { KurError } from '../util/errors.js';
import { claimRole } from './claim.js';
import { entryFromAdminConf, mergeKubeconfig, type KubeconfigEntry } from './kubeconfig-merge.js';
import { readFile } from './node-ops.js';
import { serviceLoadBalancerRole } from './service-load-balancer.js';
import { apiAnswers, clusterState, createCompleted, type ClusterState } from './state.js';

/**
 * Reading clusters back from the engine. Cluster state lives in container labels, so these work
 * from any machine that reaches the engine, with no local state files.
 */
export interface ClusterNode {
  name: string;
  role: string;
  /** Engine state: running, exited, ... */
  state: string;
  image: string;
}

export interface ClusterSummary {
  name: string;
  state: ClusterState;
  nodes: ClusterNode[];
}

function toNode(c: ContainerSummary): ClusterNode {
  return { name: c.name, role: c.labels[labels.role] ?? 'unknown', state: c.state, image: c.image };
}

const roleOrder = ['control-plane', 'worker', 'load-balancer'];

function byRoleThenName(a: ClusterNode, b: ClusterNode): number {
  return roleOrder.indexOf(a.role) - roleOrder.indexOf(b.role) || a.name.localeCompare(b.name);
}

/**
 * Every cluster on the engine with its state, checked in parallel: one archive read per cluster
 * (did create finish?) and, where every container runs, one HTTPS request to the API server, each
 * bounded to a second.
 */
export async function listClusters(engine: Engine): Promise<ClusterSummary[]> {
  const containers = await engine.containers.list({ labels: { [labels.cluster]: true } });
  const byCluster = new Map<string, { claimed: boolean; nodes: ClusterNode[] }>();
  for (const c of containers) {
    const name = c.labels[labels.cluster];
    if (name === undefined) continue;
    const entry = byCluster.get(name) ?? { claimed: false, nodes: [] };
    // A Service's load balancer is a workload's, not the cluster's: `kur get services` lists them.
    if (c.labels[labels.role] === serviceLoadBalancerRole) continue;
    if (c.labels[labels.role] === claimRole) entry.claimed = true;
    else entry.nodes.push(toNode(c));
    byCluster.set(name, entry);
  }
  const local = engine.endpoint.connection.kind === 'unix';
  const summaries = [...byCluster.entries()].map(async ([name, { claimed, nodes }]) => {
    const containerStates = nodes.map((n) => n.state);
    const allRunning = containerStates.length > 0 && containerStates.every((s) => s === 'running');
    // Both checks at once, each bounded to a second: the listing takes about a second per cluster
    // at most. Only a marker known to be absent makes a cluster incomplete: a slow or failed read
    // says nothing, and the other checks still speak.
    const [complete, answers] = await Promise.all([
      claimed ? withTimeout(createCompleted(engine, name), 1000, true) : Promise.resolve(true),
      allRunning && local
        ? withTimeout(
            apiServerEndpoint(engine, name, false).then((server) => apiAnswers(server)),
            1000,
            false,
          )
        : Promise.resolve(undefined),
    ]);
    const state = clusterState({ complete, containerStates, apiAnswers: answers });
    return { name, state, nodes: nodes.sort(byRoleThenName) };
  });
  return (await Promise.all(summaries)).sort((a, b) => a.name.localeCompare(b.name));
}

/** The check's answer, or `fallback` once `ms` have passed (a hung engine or port must not hang the listing). */
async function withTimeout<T>(work: Promise<T>, ms: number, fallback: T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<T>((resolve) => {
    timer = setTimeout(() => resolve(fallback), ms);
  });
  try {
    return await Promise.race([work.catch(() => fallback), late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Node containers run systemd and a kubelet; load balancers and the claim are the cluster's other containers. */
export function isNodeRole(role: string | undefined): boolean {
  return role === 'control-plane' || role === 'worker';
}

/** A cluster's containers as the engine lists them, split by what they are. */
export interface ClusterContainers {
  /** kur's record of the cluster (never started); absent for a cluster made by an older kur. */
  claim: ContainerSummary | undefined;
  /** Control planes, workers and the HA load balancer. */
  nodes: ContainerSummary[];
  /** Everything but the claim: nodes and Service load balancers. */
  containers: ContainerSummary[];
}

/**
 * Every container of the named cluster, with one list call. A cluster is its nodes: labelled
 * containers without any (a claim of a create that never made one, load balancers left behind)
 * are not a cluster, and asking for one is a notFound error.
 */
export async function clusterContainers(engine: Engine, name: string): Promise<ClusterContainers> {
  const found = await engine.containers.list({ labels: { [labels.cluster]: name } });
  const claim = found.find((c) => c.labels[labels.role] === claimRole);
  const containers = found.filter((c) => c !== claim);
  const nodes = containers.filter((c) => isNodeRole(c.labels[labels.role]));
  if (nodes.length === 0) {
    throw new KurError('notFound', `no cluster named "${name}"${claim ? ' with nodes' : ''}`, {
      hint: 'List clusters with `kur get clusters`; create one with `kur create cluster`.',
    });
  }
  return { claim, nodes, containers };
}

/** The cluster's node containers (Service load balancers excluded); a missing cluster is an error. */
export async function clusterNodes(engine: Engine, name: string): Promise<ClusterNode[]> {
  const { nodes } = await clusterContainers(engine, name);
  return nodes.map(toNode).sort(byRoleThenName);
}

/** The first control plane: kubectl runs there, and its admin.conf is the cluster's credentials. */
export async function firstControlPlane(engine: Engine, name: string): Promise<ClusterNode> {
  const nodes = await clusterNodes(engine, name);
  const cp = nodes.find((n) => n.role === 'control-plane');
  if (cp === undefined) throw new KurError('notFound', `cluster "${name}" has no control-plane node`);
  return cp;
}

export interface KubeconfigOptions {
  /** Address nodes use (`https://<name>-control-plane:6443`), for clients on the engine network. */
  internal: boolean;
}

/** A self-contained kubeconfig for a cluster, read from its control plane. */
export async function clusterKubeconfig(
  engine: Engine,
  name: string,
  options: KubeconfigOptions,
): Promise<{ kubeconfig: string; server: string; context: string }> {
  const entry = await clusterCredentials(engine, name, options);
  return { kubeconfig: mergeKubeconfig(undefined, entry), server: entry.server, context: entry.name };
}

/** The cluster's admin credentials and API server address (a kubeconfig entry), read from its control plane. */
export async function clusterCredentials(
  engine: Engine,
  name: string,
  options: KubeconfigOptions,
): Promise<KubeconfigEntry> {
  const endpoint = await apiServerEndpoint(engine, name, options.internal);
  const cp = await firstControlPlane(engine, name);
  const admin = await readFile(engine, cp, nodePaths.adminKubeconfig);
  return entryFromAdminConf(admin, contextName(name), endpoint);
}

/** Where clients reach the API server: the published port on the host, or the in-network name. */
export async function apiServerEndpoint(engine: Engine, name: string, internal: boolean): Promise<string> {
  const containers = await engine.containers.list({ labels: { [labels.cluster]: name } });
  const front =
    containers.find((c) => c.labels[labels.role] === 'load-balancer') ??
    containers.find((c) => c.labels[labels.role] === 'control-plane');
  if (front === undefined) {
    throw new KurError('notFound', `no cluster named "${name}"`, {
      hint: 'List clusters with `kur get clusters`.',
    });
  }
  if (internal) return `https://${front.name}:6443`;
  const info = await engine.containers.inspect(front.id);
  const published = info.ports.find((p) => p.containerPort === 6443);
  if (published === undefined) {
    throw new KurError(
      'engine',
      `the API server port of ${front.name} is not published (is the node running?)`,
    );
  }
  return `https://${clientHost(published.hostIp)}:${published.hostPort}`;
}

/** Clients on the host reach a wildcard listener through loopback. */
export function clientHost(hostIp: string): string {
  if (hostIp === '' || hostIp === '0.0.0.0') return '127.0.0.1';
  if (hostIp === '::') return '[::1]';
  return hostIp.includes(':') ? `[${hostIp}]` : hostIp;
}
