import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import type { CreateClusterResult, GetClustersResult, GetServicesResult } from '../../src/api/results.js';
import { freeHostPort } from '../../src/cluster/host-ports.js';
import { hostPortsAnnotation, serviceLoadBalancerRole } from '../../src/cluster/service-load-balancer.js';
import { labels } from '../../src/engine/labels.js';
import { describeClusterEngines } from '../support/cluster-engines.js';
import { E2eRun } from '../support/clusters.js';
import { lifecycle } from '../support/durability.js';
import { clusterObjects } from '../support/engine-objects.js';
import { eventually } from '../support/eventually.js';
import { hostHttpGet } from '../support/host-ports.js';
import type { Kubectl } from '../support/kubectl.js';
import { expectSuccess, parseJson, startKur, type RunningKur } from '../support/kur-cli.js';
import { httpServer, service, waitForPods } from '../support/workloads.js';

/**
 * Services of type LoadBalancer through `kur serve load-balancers`: one cluster with a worker for
 * most checks, and a one-node cluster beside it to show two clusters' load balancers do not
 * collide. The controller runs as the CLI, a child process per cluster, as a user runs it.
 */
interface ServiceJson {
  metadata: { annotations?: Record<string, string> };
  status: { loadBalancer: { ingress?: { ip?: string; ipMode?: string }[] } };
}

/** The host port kur reports for the Service's port 8080, from its annotation. */
function hostPortOf(svc: ServiceJson): number {
  const match = /(?:^|,)8080\/TCP=(\d+)/.exec(svc.metadata.annotations?.[hostPortsAnnotation] ?? '');
  if (match === null) throw new Error(`no host port for 8080/TCP in ${JSON.stringify(svc.metadata)}`);
  return Number(match[1]);
}

describeClusterEngines('Services of type LoadBalancer', (target) => {
  const run = new E2eRun(target, randomBytes(3).toString('hex'));
  const main = run.clusterName('lb');
  const other = run.clusterName('lb2');
  const kubectl: Record<string, Kubectl> = {};
  const controllers = new Map<string, RunningKur>();
  const hostPorts: Record<string, number> = {};

  /** Starts `kur serve load-balancers` for a cluster and waits until it serves. */
  async function serve(cluster: string): Promise<RunningKur> {
    const controller = startKur(run, ['serve', 'load-balancers', '--name', cluster]);
    controllers.set(cluster, controller);
    await controller.waitForOutput(/serving Services of type LoadBalancer/, 60_000);
    return controller;
  }

  async function stopServing(cluster: string): Promise<void> {
    const controller = controllers.get(cluster);
    if (controller === undefined || controller.child.exitCode !== null) return;
    controller.child.kill('SIGTERM');
    const result = await controller.done;
    controllers.delete(cluster);
    expect(result.code, result.stderr).to.equal(0);
    expect(result.stderr).to.match(/stopped serving load balancers/);
  }

  /** Waits until the Service reports 127.0.0.1 and its host port; returns it with the time it took. */
  async function waitForAddress(cluster: string, name: string): Promise<{ svc: ServiceJson; port: number }> {
    const svc = await eventually(
      `Service ${name} to get an address`,
      120_000,
      async () => {
        const s = await kubectl[cluster]!.json<ServiceJson>(['get', 'service', name]);
        return s.status.loadBalancer.ingress?.[0]?.ip === '127.0.0.1' &&
          s.metadata.annotations?.[hostPortsAnnotation] !== undefined
          ? s
          : undefined;
      },
      250,
    );
    return { svc, port: hostPortOf(svc) };
  }

  async function loadBalancers(cluster: string): Promise<string[]> {
    const found = await run.engine.containers.list({
      labels: { [labels.cluster]: cluster, [labels.role]: serviceLoadBalancerRole },
    });
    return found.map((c) => c.labels[labels.service] ?? '?').sort();
  }

  before(async function () {
    this.timeout(25 * 60_000);
    await run.prepare();
    const configs: Record<string, string> = {
      [main]:
        'apiVersion: kur.dev/v1alpha1\nkind: Cluster\nnodes:\n  - role: control-plane\n  - role: worker\n',
      [other]: 'apiVersion: kur.dev/v1alpha1\nkind: Cluster\n',
    };
    const create = async (name: string): Promise<CreateClusterResult> => {
      try {
        return await run.createCluster(name, { config: configs[name]! });
      } catch (error) {
        if ((await clusterObjects(run.engine, name)).length > 0) await run.exportLogs(name, 'create failed');
        throw error;
      }
    };
    // The first create builds the node image when the engine lacks it (two builds at once would
    // race); the second create then runs beside the first cluster's image load.
    const first = await create(main);
    const [, second] = await Promise.all([
      run.loadTestImage(main),
      create(other).then(async (c) => (await run.loadTestImage(other), c)),
    ]);
    const created = [first, second];
    for (const c of created) kubectl[c.name] = await run.kubectl(c);
    await kubectl[main]!.apply([httpServer('one', run.image), httpServer('two', run.image)]);
    await kubectl[other]!.apply([httpServer('three', run.image)]);
    await waitForPods(kubectl[main]!, ['one', 'two']);
    await waitForPods(kubectl[other]!, ['three']);
  });

  after(async function () {
    this.timeout(5 * 60_000);
    for (const controller of controllers.values()) {
      if (controller.child.exitCode === null) controller.child.kill('SIGTERM');
      await controller.done;
    }
    await run.cleanUp([main, other]);
  });

  it('gives a LoadBalancer Service 127.0.0.1 and a host port that reaches its pod from the host', async function () {
    this.timeout(5 * 60_000);
    await serve(main);
    const started = Date.now();
    await kubectl[main]!.apply([service('one', { app: 'one' }, { type: 'LoadBalancer' })]);
    const { svc, port } = await waitForAddress(main, 'one');
    const addressMs = Date.now() - started;
    expect(svc.status.loadBalancer.ingress).to.deep.equal([{ ip: '127.0.0.1', ipMode: 'Proxy' }]);
    const body = await eventually('GET from the host', 60_000, () => hostHttpGet(port), 250);
    const answeredMs = Date.now() - started;
    expect(body).to.equal('one');
    hostPorts.one = port;

    const listed = await run.kur(['-o', 'json', 'get', 'services', '--name', main]);
    expectSuccess(listed, 'kur get services');
    const services = parseJson<GetServicesResult>(listed, 'get services').services;
    expect(services.map((s) => [s.namespace, s.name, s.state, s.ports[0]?.address])).to.deep.equal([
      ['default', 'one', 'running', `127.0.0.1:${port}`],
    ]);
    // What one load balancer costs: its resident memory, read from the host.
    const info = await run.engine.containers.inspect(services[0]!.container);
    const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${info.state.pid}/status`, 'utf8'))?.[1];
    process.stderr.write(
      `      (address in status after ${addressMs} ms, first answer after ${answeredMs} ms; kur-lb RSS ${rss} kB)\n`,
    );
  });

  it('gives two Services on one cluster and one on another cluster their own host ports, each answering with its own pod', async function () {
    this.timeout(5 * 60_000);
    await serve(other);
    await kubectl[main]!.apply([service('two', { app: 'two' }, { type: 'LoadBalancer' })]);
    await kubectl[other]!.apply([service('three', { app: 'three' }, { type: 'LoadBalancer' })]);
    hostPorts.two = (await waitForAddress(main, 'two')).port;
    hostPorts.three = (await waitForAddress(other, 'three')).port;
    expect(new Set(Object.values(hostPorts)).size, JSON.stringify(hostPorts)).to.equal(3);
    for (const [name, port] of Object.entries(hostPorts)) {
      expect(await eventually(`GET ${name}`, 60_000, () => hostHttpGet(port), 250)).to.equal(name);
    }
    expect(await loadBalancers(main)).to.deep.equal(['default/one', 'default/two']);
  });

  it('removes the load balancer of a deleted Service and frees its port', async function () {
    this.timeout(3 * 60_000);
    await kubectl[main]!.ok(['delete', 'service', 'two', '--wait=true']);
    await eventually('the load balancer of two to go', 60_000, async () =>
      (await loadBalancers(main)).includes('default/two') ? undefined : true,
    );
    const port = hostPorts.two!;
    await eventually(`port ${port} to be free`, 30_000, async () =>
      (await freeHostPort('127.0.0.1', port)) === port ? true : undefined,
    );
    expect(await hostHttpGet(hostPorts.one!)).to.equal('one');
  });

  it('cleans up after a Service deleted while it was not running, and keeps the others on their ports', async function () {
    this.timeout(3 * 60_000);
    await stopServing(main);
    // The load balancers keep serving while no controller runs.
    expect(await hostHttpGet(hostPorts.one!)).to.equal('one');
    await kubectl[main]!.apply([service('late', { app: 'one' }, { type: 'LoadBalancer' })]);
    await kubectl[main]!.ok(['delete', 'service', 'one', '--wait=true']);
    await serve(main);
    await eventually('the load balancer of one to go', 60_000, async () => {
      const left = await loadBalancers(main);
      return !left.includes('default/one') && left.includes('default/late') ? true : undefined;
    });
    const { port } = await waitForAddress(main, 'late');
    expect(await eventually('GET late', 60_000, () => hostHttpGet(port), 250)).to.equal('one');
    hostPorts.late = port;
  });

  it('stops and starts its load balancers with the cluster, on the same host port', async function () {
    this.timeout(10 * 60_000);
    const port = hostPorts.late!;
    await lifecycle(run, 'stop', main);
    const stopped = await run.kur(['-o', 'json', 'get', 'services', '--name', main]);
    expect(parseJson<GetServicesResult>(stopped, 'get services').services.map((s) => s.state)).to.deep.equal([
      'exited',
    ]);
    await lifecycle(run, 'start', main);
    expect(await eventually('GET late after the start', 180_000, () => hostHttpGet(port), 500)).to.equal(
      'one',
    );
    // A Service load balancer is not a node: the cluster still reads as two running nodes.
    const nodes = await eventually(`${main} to read running`, 60_000, async () => {
      const listed = await run.kur(['-o', 'json', 'get', 'clusters']);
      const found = parseJson<GetClustersResult>(listed, 'get clusters').clusters.find(
        (c) => c.name === main,
      );
      return found?.state === 'running' ? found.nodes.map((n) => n.role) : undefined;
    });
    expect(nodes).to.deep.equal(['control-plane', 'worker']);
    // The controller waited for the cluster instead of giving up.
    expect(controllers.get(main)?.child.exitCode).to.equal(null);
  });

  it('leaves no load-balancer container behind when the cluster is deleted', async function () {
    this.timeout(5 * 60_000);
    expect(await loadBalancers(other)).to.deep.equal(['default/three']);
    await run.deleteCluster(other);
    expect(await loadBalancers(other)).to.deep.equal([]);
    expect(await clusterObjects(run.engine, other)).to.deep.equal([]);
    // Its controller notices and stops with "no cluster".
    const result = await controllers.get(other)!.done;
    expect(result.code, result.stderr).to.equal(6);
    controllers.delete(other);
    const port = hostPorts.three!;
    expect(await freeHostPort('127.0.0.1', port)).to.equal(port);
  });
});
