import { homedir } from 'node:os';
import {
  clusterKubeconfig,
  clusterNodes,
  listClusters as listClustersCore,
  type ClusterNode,
  type ClusterSummary,
} from '../cluster/clusters.js';
import { deleteCluster as deleteClusterCore, type DeletedCluster } from '../cluster/delete.js';
import { engineInfo, type InfoReport } from '../cluster/info.js';
import { resolveKubeconfigPath } from '../cluster/kubeconfig-merge.js';
import { loadDockerImages, loadImageArchive, type LoadResult } from '../cluster/load.js';
import { exportLogs as exportLogsCore, type ExportedLogs } from '../cluster/logs.js';
import { defaultClusterName } from '../config/names.js';
import { buildNodeImage as buildNodeImageCore, type BuiltNodeImage } from '../nodeimage/build.js';
import { KurError } from '../util/errors.js';
import type { Cluster } from './cluster-handle.js';
import {
  callEnv,
  callLogger,
  progressListener,
  throwIfCancelled,
  withEngine,
  type EngineOptions,
  type ProgressOptions,
} from './common.js';

/**
 * A cluster by name, or the handle `createCluster` returned (then its engine is used unless
 * `host` says otherwise).
 */
export type ClusterRef = string | Pick<Cluster, 'name' | 'host'>;

function target(cluster: ClusterRef, options: EngineOptions): { name: string; engine: EngineOptions } {
  if (typeof cluster === 'string') return { name: cluster, engine: options };
  const host = options.host ?? cluster.host;
  return { name: cluster.name, engine: { ...options, ...(host !== undefined ? { host } : {}) } };
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
export function deleteCluster(options: DeleteClusterOptions = {}): Promise<DeletedCluster> {
  const name = options.name ?? defaultClusterName;
  return withEngine(options, (engine) =>
    deleteClusterCore({ engine, logger: callLogger(options), name, kubeconfigPath: options.kubeconfig }),
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
export function getKubeconfig(
  options: GetKubeconfigOptions,
): Promise<{ kubeconfig: string; server: string; context: string }> {
  const { name, engine } = target(options.cluster, options);
  return withEngine(engine, (e) => clusterKubeconfig(e, name, { internal: options.internal === true }));
}

interface LoadImageCommon extends ClusterOptions {
  /** Node names to load into. Default: every node of the cluster. */
  nodes?: string[];
}

/**
 * What to load: `images` from the engine's own image store (`kur load docker-image`), or an
 * `archive` file, a docker-archive or OCI tar (`kur load image-archive`).
 */
export type LoadImageOptions = LoadImageCommon &
  (
    | {
        /** Image references on the engine, e.g. `['my-app:dev']`. */
        images: string[];
        archive?: undefined;
      }
    | {
        /** Path of a `docker save` / OCI layout tar. */
        archive: string;
        images?: undefined;
      }
  );

/**
 * Imports images into every node's containerd (or `nodes`), through the engine API, with no
 * registry; pods can then use them with `imagePullPolicy: Never` or `IfNotPresent`.
 */
export function loadImage(options: LoadImageOptions): Promise<LoadResult> {
  const { name, engine } = target(options.cluster, options);
  const images = options.images;
  const archive = options.archive;
  if ((images === undefined) === (archive === undefined)) {
    return Promise.reject(
      new KurError('usage', 'loadImage: give either images or archive', {
        hint: "images: ['name:tag', ...] takes images from the engine; archive: 'file.tar' reads a tar.",
      }),
    );
  }
  return withEngine(engine, (e) => {
    const common = {
      engine: e,
      logger: callLogger(options),
      cluster: name,
      ...(options.nodes !== undefined ? { nodes: options.nodes } : {}),
    };
    return images !== undefined
      ? loadDockerImages({ ...common, images })
      : loadImageArchive({ ...common, archive: archive! });
  });
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

export interface BuildNodeImageOptions extends EngineOptions, ProgressOptions {
  /** Image name. Default `kur.local/node:<kubernetes version>`, the name `createCluster` looks for. */
  image?: string;
  /** Must be the version this kur pins (the default); other versions need other pins. */
  kubernetesVersion?: string;
  /** Also write the image as a docker-archive tar to this file. */
  archive?: string;
  /** Load the image into the engine. Default true; `false` needs `archive`. */
  load?: boolean;
  /** Cancels the build (finished, cached steps stay cached). */
  signal?: AbortSignal;
}

/**
 * Builds kur's node image from pinned sources with no registry, like `kur build node-image`, and
 * loads it into the engine. Needs Go and mmdebstrap on this machine; the first build takes
 * minutes, later ones reuse `${XDG_CACHE_HOME:-~/.cache}/kur`.
 */
export async function buildNodeImage(options: BuildNodeImageOptions = {}): Promise<BuiltNodeImage> {
  const load = options.load ?? true;
  if (!load && options.archive === undefined) {
    throw new KurError('usage', 'buildNodeImage: load: false needs archive (the image would go nowhere)');
  }
  throwIfCancelled(options.signal, 'building the node image');
  const onEvent = progressListener(options);
  const build = (engine: Parameters<typeof buildNodeImageCore>[0]['engine']) =>
    buildNodeImageCore({
      logger: callLogger(options),
      engine,
      ...(options.image !== undefined ? { image: options.image } : {}),
      ...(options.kubernetesVersion !== undefined ? { kubernetesVersion: options.kubernetesVersion } : {}),
      ...(options.archive !== undefined ? { archivePath: options.archive } : {}),
      renderer: 'silent',
      ...(onEvent !== undefined ? { onEvent } : {}),
      ...(options.signal !== undefined ? { signal: options.signal } : {}),
      env: callEnv(options),
    });
  return load ? withEngine(options, build) : build(undefined);
}

/** The engine kur would use and what it allows, like `kur info` (the same shape as `--output json`). */
export function info(options: EngineOptions = {}): Promise<InfoReport> {
  return engineInfo({ host: options.host, env: callEnv(options), logger: callLogger(options) });
}

/**
 * The kubeconfig file the CLI writes to: the first path of `KUBECONFIG`, else `~/.kube/config`.
 * Pass it as `kubeconfig` to `createCluster` to behave like `kur create cluster`.
 */
export function defaultKubeconfigPath(env: Record<string, string | undefined> = process.env): string {
  const home = env.HOME !== undefined && env.HOME !== '' ? env.HOME : homedir();
  return resolveKubeconfigPath({ env, home });
}
