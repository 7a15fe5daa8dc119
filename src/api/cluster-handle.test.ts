import { expect } from 'chai';
import { inspect } from 'node:util';
import type { DeletedCluster } from '../cluster/delete.js';
import { isKurError } from '../util/errors.js';
import { Cluster, type ClusterFacts } from './cluster-handle.js';

const facts: ClusterFacts = {
  name: 'unit',
  context: 'kur-unit',
  server: 'https://127.0.0.1:40000',
  kubeconfig: 'apiVersion: v1\nusers:\n- user: {client-key-data: SECRET}\n',
  kubeconfigPath: '/tmp/kur-unit-x/kubeconfig',
  nodes: [{ name: 'unit-control-plane', role: 'control-plane', ipv4: '172.18.0.2' }],
  kubernetesVersion: 'v1.37.2',
  timings: [{ path: ['Preflight'], ids: ['preflight'], durationMs: 12 }],
  host: 'unix:///var/run/docker.sock',
};

const deleted: DeletedCluster = {
  name: 'unit',
  containers: ['unit-control-plane'],
  volumes: [],
  networkRemoved: false,
  kubeconfigEntryRemoved: true,
};

/** A remove function that counts its calls and fails the first `failures` of them. */
function remover(failures = 0, delayMs = 5): { calls: () => number; remove: () => Promise<DeletedCluster> } {
  let calls = 0;
  return {
    calls: () => calls,
    remove: async () => {
      calls += 1;
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      if (calls <= failures) throw new Error(`engine unreachable (call ${calls})`);
      return deleted;
    },
  };
}

describe('Cluster handle', () => {
  it('exposes what the create learned', () => {
    const cluster = new Cluster(facts, remover().remove);
    expect(cluster.name).to.equal('unit');
    expect(cluster.context).to.equal('kur-unit');
    expect(cluster.server).to.equal('https://127.0.0.1:40000');
    expect(cluster.kubeconfig).to.include('SECRET');
    expect(cluster.kubeconfigPath).to.equal('/tmp/kur-unit-x/kubeconfig');
    expect(cluster.nodes).to.deep.equal(facts.nodes);
    expect(cluster.kubernetesVersion).to.equal('v1.37.2');
    expect(cluster.host).to.equal('unix:///var/run/docker.sock');
    expect(cluster.deleted).to.equal(false);
  });

  it('deletes once, however often and however concurrently delete() is called', async () => {
    const r = remover();
    const cluster = new Cluster(facts, r.remove);
    const [a, b] = await Promise.all([cluster.delete(), cluster.delete()]);
    const c = await cluster.delete();
    expect(r.calls()).to.equal(1);
    expect(a).to.equal(deleted);
    expect(b).to.equal(deleted);
    expect(c).to.equal(deleted);
    expect(cluster.deleted).to.equal(true);
  });

  it('tries again after a failed delete', async () => {
    const r = remover(1);
    const cluster = new Cluster(facts, r.remove);
    let failure: unknown;
    await cluster.delete().catch((error: unknown) => (failure = error));
    expect(String(failure)).to.match(/engine unreachable \(call 1\)/);
    expect(cluster.deleted).to.equal(false);
    expect(await cluster.delete()).to.equal(deleted);
    expect(r.calls()).to.equal(2);
    expect(cluster.deleted).to.equal(true);
  });

  it('is deleted when an `await using` block ends, also when the block throws', async () => {
    const r = remover();
    {
      await using cluster = new Cluster(facts, r.remove);
      expect(cluster.deleted).to.equal(false);
    }
    expect(r.calls()).to.equal(1);

    const r2 = remover();
    let seen: Cluster | undefined;
    let thrown: unknown;
    try {
      await using cluster = new Cluster(facts, r2.remove);
      seen = cluster;
      throw new Error('test failed inside the block');
    } catch (error) {
      thrown = error;
    }
    expect(String(thrown)).to.match(/test failed inside the block/);
    expect(r2.calls()).to.equal(1);
    expect(seen?.deleted).to.equal(true);
  });

  it('keeps the credentials out of console.log and JSON', () => {
    const cluster = new Cluster(facts, remover().remove);
    expect(inspect(cluster)).to.not.include('SECRET');
    expect(inspect(cluster)).to.include('unit-control-plane');
    const json = JSON.stringify(cluster);
    expect(json).to.not.include('SECRET');
    expect(JSON.parse(json)).to.include({ name: 'unit', server: facts.server, deleted: false });
  });

  it('has Symbol.asyncDispose defined at run time', () => {
    expect(typeof Symbol.asyncDispose).to.equal('symbol');
    expect(typeof Cluster.prototype[Symbol.asyncDispose]).to.equal('function');
  });

  it('stops and starts the cluster on the engine it was created on', async () => {
    // Nobody listens there: the calls must fail reaching that very endpoint.
    const nowhere = 'unix:///nonexistent/kur-handle-test.sock';
    const cluster = new Cluster({ ...facts, host: nowhere }, remover().remove, { env: {} });
    for (const call of [() => cluster.stop(), () => cluster.start({ wait: 0 })]) {
      const error = await call().catch((e: unknown) => e);
      expect(isKurError(error, 'engine'), String(error)).to.equal(true);
      expect(String(error)).to.include('/nonexistent/kur-handle-test.sock');
    }
  });
});
