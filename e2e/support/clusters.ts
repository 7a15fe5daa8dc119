import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CreateClusterResult, DeleteClustersResult, LoadImageResult } from '../../src/api/results.js';
import type { DeletedCluster } from '../../src/cluster/delete.js';
import { connectEngine } from '../../src/engine/connect.js';
import { labels } from '../../src/engine/labels.js';
import type { Engine } from '../../src/engine/types.js';
import { silentLogger } from '../../src/util/logger.js';
import { removeTestObjects, testLabels } from './cleanup.js';
import { clusterObjects, ignoreNotFound } from './engine-objects.js';
import type { TestEngine } from './engines.js';
import { hostKubectl, Kubectl } from './kubectl.js';
import { ensureBuilt, expectSuccess, parseJson, runKur, type KurRun } from './kur-cli.js';
import { loadBusyboxImage } from './test-images.js';

/**
 * What the cluster suite shares: one run per engine (a temp dir for kubeconfigs and configs, a
 * busybox test image with a unique tag), and helpers that drive the built CLI against the engine
 * with `--host`, each cluster with its own `--kubeconfig` file.
 */
export class E2eRun {
  readonly id: string;
  readonly dir: string;
  /** The busybox test image, loaded into the engine by `prepare` (nothing can be pulled). */
  readonly image: string;
  engine!: Engine;

  constructor(
    readonly target: TestEngine,
    id: string,
  ) {
    this.id = id;
    this.dir = mkdtempSync(join(tmpdir(), `kur-e2e-${id}-`));
    this.image = `kur.local/e2e-busybox:${id}`;
  }

  /** Builds the CLI if needed, connects, loads the test image. Call from a before hook. */
  async prepare(): Promise<void> {
    ensureBuilt();
    this.engine = await connectEngine({ host: this.target.host, env: {}, logger: silentLogger });
    await loadBusyboxImage(this.engine, this.image, testLabels(this.id));
  }

  /**
   * For after hooks: force-deletes the clusters, then disposes of the run whatever happened, and
   * only then reports a cluster it could not remove (the engine refused: that is a finding).
   */
  async cleanUp(clusters: string[]): Promise<void> {
    if (this.engine === undefined) return;
    const errors: unknown[] = [];
    for (const name of clusters) await this.forceDelete(name).catch((error: unknown) => errors.push(error));
    await this.dispose();
    if (errors.length > 0)
      throw new AggregateError(errors, `could not remove cluster(s) ${clusters.join(', ')}`);
  }

  /** Removes the test image (and any other object labelled for this run). Call from an after hook. */
  async dispose(): Promise<void> {
    if (this.engine === undefined) return;
    await removeTestObjects(this.engine, this.id);
    this.engine.close();
    // Exported logs stay for reading after the run; otherwise the kubeconfigs and configs go.
    if (!existsSync(join(this.dir, 'logs'))) rmSync(this.dir, { recursive: true, force: true });
  }

  /** A cluster name unique to this run (kur names nodes `<cluster>-control-plane` etc.). */
  clusterName(suffix: string): string {
    return `e2e-${this.id}-${suffix}`;
  }

  kubeconfigPath(cluster: string): string {
    return join(this.dir, `${cluster}.kubeconfig`);
  }

  /** HOME for kur runs: a run-local one, so a kur that ignored --kubeconfig is caught writing there. */
  get home(): string {
    const home = join(this.dir, 'home');
    mkdirSync(home, { recursive: true });
    return home;
  }

  /** The env kur runs with: no KUBECONFIG, a temp HOME, the real cache (node image builds are cached there). */
  kurEnv(): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      HOME: this.home,
      XDG_CACHE_HOME: process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'),
    };
    delete env.KUBECONFIG;
    delete env.KUR_HOST;
    delete env.DOCKER_HOST;
    delete env.CONTAINER_HOST;
    return env;
  }

  /** Runs `kur --host <engine> ...args`. */
  kur(args: string[]): Promise<KurRun> {
    return runKur(['--host', this.target.host, ...args], { env: this.kurEnv() });
  }

  writeConfig(cluster: string, text: string): string {
    const path = join(this.dir, `${cluster}.yaml`);
    writeFileSync(path, text);
    return path;
  }

  /** `kur -q -o json create cluster`; fails with kur's whole output unless it succeeds. */
  async createCluster(
    name: string,
    options: { config?: string; args?: string[] } = {},
  ): Promise<CreateClusterResult> {
    const args = ['-q', '-o', 'json', 'create', 'cluster', '--name', name];
    args.push('--kubeconfig', this.kubeconfigPath(name));
    if (options.config !== undefined) args.push('--config', this.writeConfig(name, options.config));
    const result = await this.kur([...args, ...(options.args ?? [])]);
    expectSuccess(result, `kur create cluster --name ${name}`);
    return parseJson<CreateClusterResult>(result, 'create cluster');
  }

  deleteArgs(name: string): string[] {
    return ['delete', 'cluster', '--name', name, '--kubeconfig', this.kubeconfigPath(name)];
  }

  /** `kur -o json delete cluster`; fails with kur's output unless it succeeds. */
  async deleteCluster(name: string): Promise<DeletedCluster[]> {
    const result = await this.kur(['-o', 'json', ...this.deleteArgs(name)]);
    expectSuccess(result, `kur delete cluster --name ${name}`);
    return parseJson<DeleteClustersResult>(result, 'delete cluster').deleted;
  }

  /** kubectl from the cluster's own node image, on the kubeconfig kur wrote for it. */
  async kubectl(cluster: CreateClusterResult): Promise<Kubectl> {
    const node = cluster.nodes.find((n) => n.role === 'control-plane') ?? cluster.nodes[0]!;
    const binary = await hostKubectl(this.engine, node.name);
    return new Kubectl(binary, this.kubeconfigPath(cluster.name), cluster.context);
  }

  /** `kur load docker-image` of the run's test image into the cluster. */
  async loadTestImage(cluster: string): Promise<LoadImageResult> {
    const result = await this.kur(['-o', 'json', 'load', 'docker-image', this.image, '--name', cluster]);
    expectSuccess(result, `kur load docker-image ${this.image}`);
    return parseJson<LoadImageResult>(result, 'load docker-image');
  }

  /**
   * Collects `kur export logs` of a cluster into the artifacts dir (KUR_E2E_ARTIFACTS, else the
   * run's temp dir) and says where, so a failure can be read after the cluster is gone.
   */
  async exportLogs(cluster: string, why: string): Promise<void> {
    const root = process.env.KUR_E2E_ARTIFACTS ?? join(this.dir, 'logs');
    const dir = join(root, `${cluster}-${Date.now()}`);
    const result = await this.kur(['export', 'logs', dir, '--name', cluster]);
    process.stderr.write(
      result.code === 0
        ? `      (${why}: logs of cluster ${cluster} in ${dir})\n`
        : `      (${why}: kur export logs failed: ${result.stderr.trim()})\n`,
    );
  }

  /**
   * Last-resort cleanup for after hooks: delete through the CLI, and if that fails, remove what
   * carries the cluster's label through the API, so a broken kur cannot leak clusters.
   */
  async forceDelete(name: string): Promise<void> {
    const result = await this.kur(this.deleteArgs(name));
    const left = await clusterObjects(this.engine, name);
    if (result.code === 0 && left.length === 0) return;
    for (const c of await this.engine.containers.list({ labels: { [labels.cluster]: name } })) {
      await this.engine.containers.remove(c.id, { force: true, volumes: true }).catch(ignoreNotFound);
    }
    for (const v of await this.engine.volumes.list({ labels: { [labels.cluster]: name } })) {
      await this.engine.volumes.remove(v.name, { force: true }).catch(ignoreNotFound);
    }
  }
}
