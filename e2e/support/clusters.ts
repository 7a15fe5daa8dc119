import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { parse } from 'yaml';
import { connectEngine } from '../../src/engine/connect.js';
import { labels } from '../../src/engine/labels.js';
import type { Engine } from '../../src/engine/types.js';
import { isKurError } from '../../src/util/errors.js';
import { silentLogger } from '../../src/util/logger.js';
import { removeTestObjects, testLabels } from './cleanup.js';
import type { TestEngine } from './engines.js';
import { hostKubectl, Kubectl } from './kubectl.js';
import { ensureBuilt, projectRoot, runKur, type KurRun } from './kur-cli.js';
import { loadBusyboxImage } from './test-images.js';

/**
 * What the cluster suite shares: one run per engine (a temp dir for kubeconfigs and configs, a
 * busybox test image with a unique tag), and helpers that drive the built CLI against the engine
 * with `--host`, each cluster with its own `--kubeconfig` file.
 */
export interface CreatedClusterJson {
  name: string;
  context: string;
  server: string;
  kubeconfigPath: string | null;
  kubernetesVersion: string;
  nodes: { name: string; role: string; ipv4: string }[];
  timings: { phase: string; ms: number }[];
  totalMs: number;
}

export interface DeletedClusterJson {
  name: string;
  containers: string[];
  volumes: string[];
  networkRemoved: boolean;
  kubeconfigEntryRemoved: boolean;
}

/** The shared network every kur cluster joins (src/cluster/node-spec.ts). */
export const kurNetwork = 'kur';

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
  ): Promise<CreatedClusterJson> {
    const args = ['-q', '-o', 'json', 'create', 'cluster', '--name', name];
    args.push('--kubeconfig', this.kubeconfigPath(name));
    if (options.config !== undefined) args.push('--config', this.writeConfig(name, options.config));
    const result = await this.kur([...args, ...(options.args ?? [])]);
    expectSuccess(result, `kur create cluster --name ${name}`);
    return parseJson<CreatedClusterJson>(result, 'create cluster');
  }

  deleteArgs(name: string): string[] {
    return ['delete', 'cluster', '--name', name, '--kubeconfig', this.kubeconfigPath(name)];
  }

  /** `kur -o json delete cluster`; fails with kur's output unless it succeeds. */
  async deleteCluster(name: string): Promise<DeletedClusterJson[]> {
    const result = await this.kur(['-o', 'json', ...this.deleteArgs(name)]);
    expectSuccess(result, `kur delete cluster --name ${name}`);
    return parseJson<{ deleted: DeletedClusterJson[] }>(result, 'delete cluster').deleted;
  }

  /** kubectl from the cluster's own node image, on the kubeconfig kur wrote for it. */
  async kubectl(cluster: CreatedClusterJson): Promise<Kubectl> {
    const node = cluster.nodes.find((n) => n.role === 'control-plane') ?? cluster.nodes[0]!;
    const binary = await hostKubectl(this.engine, node.name);
    return new Kubectl(binary, this.kubeconfigPath(cluster.name), cluster.context);
  }

  /** `kur load docker-image` of the run's test image into the cluster. */
  async loadTestImage(cluster: string): Promise<LoadJson> {
    const result = await this.kur(['-o', 'json', 'load', 'docker-image', this.image, '--name', cluster]);
    expectSuccess(result, `kur load docker-image ${this.image}`);
    return parseJson<LoadJson>(result, 'load docker-image');
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

export interface LoadJson {
  images: string[];
  loaded: Record<string, string[]>;
  skipped: Record<string, string[]>;
}

function ignoreNotFound(error: unknown): void {
  if (!isKurError(error, 'notFound')) throw error;
}

export function describeRun(result: KurRun): string {
  return `exit code ${result.code}\n--- stdout\n${result.stdout}--- stderr\n${result.stderr}`;
}

export function expectSuccess(result: KurRun, what: string): void {
  if (result.code !== 0) throw new Error(`${what} failed: ${describeRun(result)}`);
}

/** stdout as one JSON document: with -o json nothing else may be on stdout. */
export function parseJson<T>(result: KurRun, what: string): T {
  try {
    return JSON.parse(result.stdout) as T;
  } catch (error) {
    throw new Error(`${what}: stdout is not one JSON document (${String(error)}): ${describeRun(result)}`, {
      cause: error,
    });
  }
}

/** Everything on the engine labelled dev.kur.cluster=<name>, described; empty when the cluster is gone. */
export async function clusterObjects(engine: Engine, name: string): Promise<string[]> {
  const filter = { [labels.cluster]: name };
  const [containers, networks, volumes] = await Promise.all([
    engine.containers.list({ labels: filter }),
    engine.networks.list({ labels: filter }),
    engine.volumes.list({ labels: filter }),
  ]);
  return [
    ...containers.map((c) => `container ${c.name} (${c.state})`),
    ...networks.map((n) => `network ${n.name}`),
    ...volumes.map((v) => `volume ${v.name}`),
  ];
}

/**
 * The volumes mounted in a cluster's containers (the nodes' /var). Podman cannot label the
 * anonymous volumes a container creates, so leaks are checked by name, not only by label.
 */
export async function clusterVolumeNames(engine: Engine, name: string): Promise<string[]> {
  const containers = await engine.containers.list({ labels: { [labels.cluster]: name } });
  const names: string[] = [];
  for (const c of containers) {
    const info = await engine.containers.inspect(c.id).catch(() => undefined);
    for (const m of info?.mounts ?? []) if (m.type === 'volume' && m.name !== '') names.push(m.name);
  }
  return names.sort();
}

/** Which of these volumes still exist. */
export async function remainingVolumes(engine: Engine, names: string[]): Promise<string[]> {
  const remaining: string[] = [];
  for (const volume of names) {
    try {
      await engine.volumes.inspect(volume);
      remaining.push(volume);
    } catch (error) {
      if (!isKurError(error, 'notFound')) throw error;
    }
  }
  return remaining;
}

/** Whether the shared `kur` network exists. */
export async function kurNetworkExists(engine: Engine): Promise<boolean> {
  try {
    await engine.networks.inspect(kurNetwork);
    return true;
  } catch (error) {
    if (isKurError(error, 'notFound')) return false;
    throw error;
  }
}

/** Names of all kur clusters on the engine, from container labels (other suites' too). */
export async function clustersOnEngine(engine: Engine): Promise<string[]> {
  const found = await engine.containers.list({ labels: { [labels.cluster]: true } });
  return [...new Set(found.map((c) => c.labels[labels.cluster] ?? ''))].filter((n) => n !== '').sort();
}

interface KubeconfigFile {
  clusters?: { name: string; cluster?: { server?: string } }[] | null;
  users?: { name: string }[] | null;
  contexts?: { name: string; context?: { cluster?: string; user?: string } }[] | null;
  'current-context'?: string;
}

/** The kubeconfig file as YAML data; an absent file reads as empty. */
export function readKubeconfig(path: string): KubeconfigFile {
  if (!existsSync(path)) return {};
  return (parse(readFileSync(path, 'utf8')) as KubeconfigFile | null) ?? {};
}

/** Every entry (cluster, user, context) of the file named `name`, described. */
export function kubeconfigEntries(path: string, name: string): string[] {
  const config = readKubeconfig(path);
  return [
    ...(config.clusters ?? []).filter((e) => e.name === name).map(() => `cluster ${name}`),
    ...(config.users ?? []).filter((e) => e.name === name).map(() => `user ${name}`),
    ...(config.contexts ?? []).filter((e) => e.name === name).map(() => `context ${name}`),
  ];
}

/** Polls `check` until it returns a value other than undefined, or fails with the last reason. */
export async function eventually<T>(
  what: string,
  timeoutMs: number,
  check: () => Promise<T | undefined> | T | undefined,
  intervalMs = 1000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: string;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
      last = 'condition not met';
    } catch (error) {
      last = error instanceof Error ? error.message : String(error);
    }
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs / 1000} s; last: ${last}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** A TCP port free on 127.0.0.1 right now (the engine binds it moments later). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address !== null && typeof address === 'object') resolve(address.port);
        else reject(new Error('no port assigned'));
      });
    });
  });
}

/** GET http://127.0.0.1:<port>/ from the host; the body, trimmed. */
export async function hostHttpGet(port: number, timeoutMs = 5000): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(timeoutMs) });
  if (!response.ok) throw new Error(`GET 127.0.0.1:${port} answered ${response.status}`);
  return (await response.text()).trim();
}

export interface RunningKur {
  child: ChildProcess;
  /** stdout and stderr so far, interleaved as they arrived. */
  output(): string;
  /** Resolves once the output matches; rejects when kur exits first or the time is up. */
  waitForOutput(pattern: RegExp, timeoutMs: number): Promise<void>;
  done: Promise<KurRun>;
}

/** Starts `kur --host <engine> ...args` and hands back the process, for tests that signal it. */
export function startKur(run: E2eRun, args: string[]): RunningKur {
  const child = spawn(
    process.execPath,
    [join(projectRoot, 'bin', 'kur.js'), '--host', run.target.host, ...args],
    {
      cwd: projectRoot,
      env: run.kurEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  let both = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    both += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    both += chunk.toString();
  });
  const done = new Promise<KurRun>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
  const waitForOutput = (pattern: RegExp, timeoutMs: number): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      const finish = (error?: Error): void => {
        clearTimeout(timer);
        child.stdout?.off('data', check);
        child.stderr?.off('data', check);
        if (error === undefined) resolve();
        else reject(error);
      };
      const check = (): void => {
        if (pattern.test(both)) finish();
      };
      const timer = setTimeout(
        () => finish(new Error(`kur did not print ${String(pattern)} in ${timeoutMs / 1000} s:\n${both}`)),
        timeoutMs,
      );
      child.stdout?.on('data', check);
      child.stderr?.on('data', check);
      void done.then((result) =>
        finish(new Error(`kur exited before printing ${String(pattern)}: ${describeRun(result)}`)),
      );
      check();
    });
  return { child, output: () => both, waitForOutput, done };
}
