import {
  clusterKubeconfig,
  clusterNodes,
  listClusters as listClustersCore,
  type ClusterNode,
  type ClusterSummary,
} from '../cluster/clusters.js';
import {
  deleteCluster as deleteClusterCore,
  listClusterNames,
  type DeletedCluster,
} from '../cluster/delete.js';
import { updateKubeconfigFile } from '../cluster/kubeconfig-file.js';
import { entryFromAdminConf, mergeKubeconfig } from '../cluster/kubeconfig-merge.js';
import { exportLogs as exportLogsCore, type ExportedLogs } from '../cluster/logs.js';
import { defaultClusterName } from '../config/names.js';
import type { Engine } from '../engine/types.js';
import type { Cluster } from './cluster-handle.js';
import { callLogger, withEngine, type EngineOptions } from './common.js';
import type { ExportKubeconfigResult, KubeconfigResult } from './results.js';

/**
 * A cluster by name, or the handle `createCluster` returned (then its engine is used unless
 * `host` says otherwise).
 */
export type ClusterRef = string | Pick<Cluster, 'name' | 'host'>;

export function target(cluster: ClusterRef, options: EngineOptions): { name: string; engine: EngineOptions } {
  if (typeof cluster === 'string') return { name: cluster, engine: options };
  const host = options.host ?? cluster.host;
  return { name: cluster.name, engine: { ...options, ...(host !== undefined ? { host } : {}) } };
}

/** The clusters a command acts on: one by name, or every kur cluster on the engine (`--all`). */
export type ClusterSelection = { name: string } | { all: true };

/**
 * Acts on each selected cluster in turn, on one engine connection. One at a time: clusters share
 * the network, and a delete's network removal waits for the last of them.
 */
export async function eachCluster<T>(
  engine: Engine,
  selection: ClusterSelection,
  act: (name: string) => Promise<T>,
): Promise<T[]> {
  const names = 'all' in selection ? await listClusterNames(engine) : [selection.name];
  const results: T[] = [];
  for (const name of names) results.push(await act(name));
  return results;
}

export interface DeleteClusterOptions extends EngineOptions {
  /** The cluster to delete. Default `kur`, like the CLI. */
  name?: string;
  /**
   * A kubeconfig file to remove the cluster's entries (`kur-<name>`) from. Default: none; the
   * library never edits `~/.kube/config` unless asked (`defaultKubeconfigPath()` names it).
   */
  kubeconfig?: string;
}

/**
 * Deletes a cluster, like `kur delete cluster`: every container and volume labelled with its name,
 * the kur network when no cluster uses it any more, and its kubeconfig entries when `kubeconfig`
 * is given. Idempotent: a cluster that does not exist resolves with empty lists.
 */
export async function deleteCluster(options: DeleteClusterOptions = {}): Promise<DeletedCluster> {
  const [deleted] = await deleteClusters({
    ...options,
    clusters: { name: options.name ?? defaultClusterName },
  });
  return deleted!;
}

/** `deleteCluster` of each selected cluster (internal: the CLI's `--all`). */
export function deleteClusters(
  options: Omit<DeleteClusterOptions, 'name'> & { clusters: ClusterSelection },
): Promise<DeletedCluster[]> {
  const logger = callLogger(options);
  return withEngine(options, (engine) =>
    eachCluster(engine, options.clusters, (name) =>
      deleteClusterCore({ engine, logger, name, kubeconfigPath: options.kubeconfig }),
    ),
  );
}

/** Every kur cluster on the engine with its node containers, like `kur get clusters`. */
export function listClusters(options: EngineOptions = {}): Promise<ClusterSummary[]> {
  return withEngine(options, (engine) => listClustersCore(engine));
}

export interface ClusterOptions extends EngineOptions {
  /** The cluster: its name, or the handle `createCluster` returned. */
  cluster: ClusterRef;
}

/** A cluster's node containers (load balancer excluded), like `kur get nodes`; a missing cluster rejects (`notFound`). */
export function getNodes(options: ClusterOptions): Promise<ClusterNode[]> {
  const { name, engine } = target(options.cluster, options);
  return withEngine(engine, (e) => clusterNodes(e, name));
}

export interface GetKubeconfigOptions extends ClusterOptions {
  /**
   * Use the address nodes and other containers on the engine's `kur` network use
   * (`https://<name>-control-plane:6443`) instead of the host's published port. Default false.
   */
  internal?: boolean;
}

/** A self-contained kubeconfig for an existing cluster, like `kur get kubeconfig`. */
export function getKubeconfig(options: GetKubeconfigOptions): Promise<KubeconfigResult> {
  const { name, engine } = target(options.cluster, options);
  return withEngine(engine, (e) => clusterKubeconfig(e, name, { internal: options.internal === true }));
}

/**
 * Merges a cluster's entry into the kubeconfig file `kubeconfig` and makes it the current context,
 * like `kur export kubeconfig`.
 */
export async function exportKubeconfig(
  options: GetKubeconfigOptions & { kubeconfig: string },
): Promise<ExportKubeconfigResult> {
  const path = options.kubeconfig;
  const { kubeconfig, context, server } = await getKubeconfig(options);
  const entry = entryFromAdminConf(kubeconfig, context, server);
  await updateKubeconfigFile(path, (existing) => mergeKubeconfig(existing, entry, path));
  return { context, server, kubeconfigPath: path };
}

export interface ExportLogsOptions extends ClusterOptions {
  /** Directory to write into (created if missing): one subdirectory per node. */
  dir: string;
}

/**
 * Collects a cluster's logs, like `kur export logs`: per node the journal, kubelet and containerd
 * units, CRI state, `/var/log` (pods), the container log and the engine's inspect. What could not be
 * collected is listed in `problems` rather than failing the call.
 */
export function exportLogs(options: ExportLogsOptions): Promise<ExportedLogs> {
  const { name, engine } = target(options.cluster, options);
  return withEngine(engine, (e) =>
    exportLogsCore({ engine: e, logger: callLogger(options), cluster: name, dir: options.dir }),
  );
}
