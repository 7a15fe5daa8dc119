import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { expect } from 'chai';
import {
  createCluster,
  exportLogs,
  getKubeconfig,
  getNodes,
  isKurError,
  listClusters,
  loadImage,
  type ProgressEvent,
} from '../../src/index.js';
import { describeClusterEngines } from '../support/cluster-engines.js';
import { clusterObjects } from '../support/engine-objects.js';
import { E2eRun } from '../support/clusters.js';
import { eventually } from '../support/eventually.js';
import { readyNodes } from './kube-api.js';

/** Temp directories a cluster's private kubeconfig lives in (`<tmpdir>/kur-<name>-XXXXXX`). */
function privateDirs(name: string): string[] {
  return readdirSync(tmpdir()).filter((entry) => entry.startsWith(`kur-${name}-`));
}

describeClusterEngines('library API', (target) => {
  const id = randomBytes(3).toString('hex');
  const run = new E2eRun(target, id);
  const names: string[] = [];
  const options = () => ({ host: target.host, env: run.kurEnv() });

  before(async function () {
    this.timeout(300_000);
    await run.prepare();
  });

  after(async function () {
    this.timeout(300_000);
    await run.cleanUp(names);
  });

  it('creates a cluster that `await using` deletes, kubeconfig file included', async function () {
    this.timeout(20 * 60_000);
    const name = `lib-${id}-using`;
    names.push(name);
    const events: ProgressEvent[] = [];
    const emitted: ProgressEvent[] = [];
    const emitter = new EventEmitter().on('progress', (event: ProgressEvent) => emitted.push(event));
    const node = `${name}-control-plane`;
    let kubeconfigPath: string;
    {
      await using cluster = await createCluster({
        name,
        ...options(),
        onProgress: (event) => events.push(event),
        progress: emitter,
      });
      expect(await clusterObjects(run.engine, name)).to.include(`container ${node} (running)`);
      expect(cluster.name).to.equal(name);
      expect(cluster.context).to.equal(`kur-${name}`);
      expect(cluster.server).to.match(/^https:\/\/127\.0\.0\.1:\d+$/);
      expect(cluster.kubernetesVersion).to.match(/^v1\.\d+\.\d+/);
      expect(cluster.nodes.map((n) => [n.name, n.role])).to.deep.equal([[node, 'control-plane']]);
      expect(cluster.host).to.equal(target.host);

      // A private kubeconfig file, mode 0600, in a directory of its own, holding exactly the text.
      kubeconfigPath = cluster.kubeconfigPath!;
      expect(basename(dirname(kubeconfigPath))).to.match(new RegExp(`^kur-${name}-`));
      expect(dirname(dirname(kubeconfigPath))).to.equal(tmpdir());
      expect(statSync(kubeconfigPath).mode & 0o777).to.equal(0o600);
      expect(readFileSync(kubeconfigPath, 'utf8')).to.equal(cluster.kubeconfig);
      expect(await readyNodes(cluster.kubeconfig)).to.deep.equal([node]);
      expect(existsSync(join(run.home, '.kube')), '~/.kube touched').to.equal(false);

      // The other calls, given the handle, find the cluster on its engine.
      expect((await listClusters(options())).map((c) => c.name)).to.include(name);
      expect((await getNodes({ cluster, env: run.kurEnv() })).map((n) => n.name)).to.deep.equal([node]);
      expect((await getKubeconfig({ cluster, env: run.kurEnv() })).server).to.equal(cluster.server);
      const loaded = await loadImage({ cluster, images: [run.image], env: run.kurEnv() });
      expect(loaded.loaded).to.deep.equal({ [node]: [run.image] });
      const logs = await exportLogs({ cluster, dir: join(run.dir, 'api-logs'), env: run.kurEnv() });
      expect(logs.nodes).to.deep.equal([node]);
      expect(existsSync(join(logs.dir, node, 'kubelet.log')), 'kubelet.log exported').to.equal(true);

      expect(events[0]).to.deep.include({ type: 'start', path: ['Preflight'] });
      expect(
        events.some((e) => e.type === 'done' && e.path.join(' > ') === 'Wait for nodes and DNS'),
      ).to.equal(true);
      expect(emitted).to.deep.equal(events);
      expect(cluster.deleted).to.equal(false);
    }
    expect(await clusterObjects(run.engine, name)).to.deep.equal([]);
    expect(existsSync(kubeconfigPath), 'kubeconfig file after dispose').to.equal(false);
    expect(privateDirs(name), 'private kubeconfig directory after dispose').to.deep.equal([]);
    expect((await listClusters(options())).map((c) => c.name)).to.not.include(name);
  });

  it('cancels a create through an AbortSignal once nodes are being created, leaving nothing', async function () {
    this.timeout(20 * 60_000);
    const name = `lib-${id}-abort`;
    names.push(name);
    const controller = new AbortController();
    let nodesStarting!: () => void;
    const starting = new Promise<void>((resolve) => (nodesStarting = resolve));
    const creating = createCluster({
      name,
      nodes: [{ role: 'control-plane' }, { role: 'worker' }],
      ...options(),
      signal: controller.signal,
      onProgress: (event) => {
        if (event.type === 'status' && event.path[0] === 'Start nodes' && event.text === 'booting systemd') {
          nodesStarting();
        }
      },
    });
    const outcome = creating.then(
      (cluster) => cluster,
      (error: unknown) => error,
    );
    await Promise.race([
      starting,
      outcome.then((result) => {
        throw new Error(`the create ended before nodes were started: ${String(result)}`);
      }),
    ]);
    // Something exists at this point, or the cancellation proves nothing.
    expect(await clusterObjects(run.engine, name), 'objects before the abort').to.not.deep.equal([]);
    const aborted = Date.now();
    controller.abort(new Error('the test cancels this create'));
    const error = await outcome;
    const rollbackMs = Date.now() - aborted;
    expect(isKurError(error, 'cancelled'), String(error)).to.equal(true);
    expect((error as Error).message).to.equal(`creating cluster ${name} was interrupted`);
    expect(await clusterObjects(run.engine, name)).to.deep.equal([]);
    expect(privateDirs(name), 'private kubeconfig directory').to.deep.equal([]);
    // Nothing turns up late either (a container create in flight when the abort came).
    await new Promise((resolve) => setTimeout(resolve, 5000));
    expect(await clusterObjects(run.engine, name), 'objects 5 s later').to.deep.equal([]);
    process.stderr.write(`      (rolled back ${rollbackMs} ms after the abort)\n`);
  });

  it('rejects a create whose signal is already aborted before touching the engine', async () => {
    const name = `lib-${id}-early`;
    const error = await createCluster({ name, ...options(), signal: AbortSignal.abort() }).catch(
      (e: unknown) => e,
    );
    expect(isKurError(error, 'cancelled'), String(error)).to.equal(true);
    await eventually('nothing for the cluster', 1000, async () =>
      (await clusterObjects(run.engine, name)).length === 0 ? true : undefined,
    );
  });
});
