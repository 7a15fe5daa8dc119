import './dispose-symbol.js';
import type { DeletedCluster } from '../cluster/delete.js';
import type { CreatedCluster, CreatedNode } from '../cluster/create.js';
import type { StartedCluster, StoppedCluster } from '../cluster/lifecycle.js';
import type { StepTiming } from '../ui/progress.js';
import type { EngineOptions } from './common.js';
import { startCluster, stopCluster, type StartClusterOptions } from './lifecycle.js';

/** What `createCluster` learned about the cluster it made, and the engine it is on. */
export interface ClusterFacts extends CreatedCluster {
  host: string | undefined;
}

/** What `cluster.start()` takes: how long to wait, and how to follow or cancel it. */
export type ClusterStartOptions = Pick<StartClusterOptions, 'wait' | 'signal' | 'onProgress' | 'progress'>;

/**
 * A cluster made by `createCluster`. `delete()` removes it (idempotent); `await using` does the
 * same when the block ends; `stop()` and `start()` pause and resume it:
 *
 * ```ts
 * await using cluster = await createCluster({ name: 'test' });
 * // ... use cluster.kubeconfigPath ...
 * // deleted here, even when the block throws
 * ```
 */
export class Cluster implements AsyncDisposable {
  readonly #facts: ClusterFacts;
  readonly #remove: () => Promise<DeletedCluster>;
  readonly #engine: EngineOptions;
  #deleting: Promise<DeletedCluster> | undefined;
  #deleted = false;

  /**
   * @internal Made by `createCluster`; `remove` deletes the cluster and whatever files it owns;
   * `engine` is how `stop()` and `start()` reach it.
   */
  constructor(facts: ClusterFacts, remove: () => Promise<DeletedCluster>, engine: EngineOptions = {}) {
    this.#facts = { ...facts, nodes: facts.nodes.map((n) => ({ ...n })), timings: [...facts.timings] };
    this.#remove = remove;
    this.#engine = { ...engine, ...(facts.host !== undefined ? { host: facts.host } : {}) };
  }

  /** The cluster name; its nodes are containers named `<name>-control-plane`, `<name>-worker`, ... */
  get name(): string {
    return this.#facts.name;
  }

  /** The kubeconfig context (and cluster and user entry) name: `kur-<name>`. */
  get context(): string {
    return this.#facts.context;
  }

  /** The API server URL as this host reaches it, e.g. `https://127.0.0.1:40123`. */
  get server(): string {
    return this.#facts.server;
  }

  /**
   * A self-contained kubeconfig for the cluster (admin credentials), with `context` current.
   * Not shown by `console.log(cluster)`: it holds a private key.
   */
  get kubeconfig(): string {
    return this.#facts.kubeconfig;
  }

  /** The kubeconfig file holding the cluster's entry; undefined with `kubeconfig: false`. */
  get kubeconfigPath(): string | undefined {
    return this.#facts.kubeconfigPath;
  }

  /** The node containers: name, role (`control-plane` or `worker`) and IPv4 address on the `kur` network. */
  get nodes(): readonly CreatedNode[] {
    return this.#facts.nodes;
  }

  /** The Kubernetes version of the node image, e.g. `v1.37.2`. */
  get kubernetesVersion(): string {
    return this.#facts.kubernetesVersion;
  }

  /** How long each create step took. */
  get timings(): readonly StepTiming[] {
    return this.#facts.timings;
  }

  /** The engine endpoint the cluster lives on (used by `delete()` and by calls given this handle). */
  get host(): string | undefined {
    return this.#facts.host;
  }

  /** True once `delete()` has succeeded. */
  get deleted(): boolean {
    return this.#deleted;
  }

  /**
   * Deletes the cluster: its containers and volumes, the kur network when no other cluster uses
   * it, and its kubeconfig (the private file, or the entry merged into `kubeconfig: path`).
   * Idempotent: concurrent and later calls share the first successful result; after a failure
   * the next call tries again.
   */
  delete(): Promise<DeletedCluster> {
    this.#deleting ??= this.#remove().then(
      (result) => {
        this.#deleted = true;
        return result;
      },
      (error: unknown) => {
        this.#deleting = undefined;
        throw error;
      },
    );
    return this.#deleting;
  }

  /** Stops the node containers, keeping their state, like `kur stop cluster`. */
  stop(): Promise<StoppedCluster> {
    return stopCluster({ ...this.#engine, name: this.name });
  }

  /** Starts a stopped cluster again and waits for it, like `kur start cluster`. */
  start(options: ClusterStartOptions = {}): Promise<StartedCluster> {
    return startCluster({ ...this.#engine, ...options, name: this.name });
  }

  /** `await using` support: deletes the cluster. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.delete();
  }

  /** What `JSON.stringify` and `console.log` show: everything but the credentials. */
  toJSON(): Omit<ClusterFacts, 'kubeconfig'> & { deleted: boolean } {
    const { kubeconfig: _secret, ...rest } = this.#facts;
    return { ...rest, deleted: this.#deleted };
  }

  [Symbol.for('nodejs.util.inspect.custom')](): unknown {
    return { ...this.toJSON(), kubeconfig: '[hidden]' };
  }
}
