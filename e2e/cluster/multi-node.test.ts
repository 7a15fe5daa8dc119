import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { expect } from 'chai';
import { describeClusterEngines } from '../support/cluster-engines.js';
import {
  clusterObjects,
  clustersOnEngine,
  clusterVolumeNames,
  kurNetworkExists,
  remainingVolumes,
} from '../support/engine-objects.js';
import { describeRun, expectSuccess, parseJson } from '../support/kur-cli.js';
import { E2eRun } from '../support/clusters.js';
import { eventually } from '../support/eventually.js';
import { freePort, hostHttpGet } from '../support/host-ports.js';
import { kubeconfigEntries } from '../support/kubeconfig-file.js';
import type { CreateClusterResult } from '../../src/api/results.js';
import type { Kubectl } from '../support/kubectl.js';
import {
  execIn,
  getPod,
  httpGet,
  httpPort,
  httpServer,
  idlePod,
  nslookupAddresses,
  service,
  waitForPods,
  type PodStatus,
} from '../support/workloads.js';

interface NodeList {
  items: {
    metadata: { name: string; labels: Record<string, string> };
    spec: { podCIDR?: string };
    status: { conditions: { type: string; status: string }[]; capacity: { pods: string } };
  }[];
}

interface ServiceJson {
  spec: { clusterIP: string };
}

/** The node port the NodePort service uses, published on a free host port by extraPortMappings. */
const nodePort = 30080;

/** Set through a kubeadmConfigPatches KubeletConfiguration patch; the kubelet's default is 110. */
const patchedMaxPods = '150';

function clusterConfig(hostPort: number): string {
  return [
    'apiVersion: kur.dev/v1alpha1',
    'kind: Cluster',
    'kubeadmConfigPatches:',
    '  - |',
    '    kind: KubeletConfiguration',
    `    maxPods: ${patchedMaxPods}`,
    'nodes:',
    '  - role: control-plane',
    '  - role: worker',
    '    extraPortMappings:',
    `      - containerPort: ${nodePort}`,
    `        hostPort: ${hostPort}`,
    '  - role: worker',
    '    labels:',
    '      tier: e2e',
    '',
  ].join('\n');
}

async function nodesReady(kubectl: Kubectl): Promise<string[]> {
  const nodes = await kubectl.json<NodeList>(['get', 'nodes']);
  return nodes.items
    .filter((n) => n.status.conditions.find((c) => c.type === 'Ready')?.status === 'True')
    .map((n) => n.metadata.name)
    .sort();
}

describeClusterEngines('cluster of one control plane and two workers', (target) => {
  const run = new E2eRun(target, randomBytes(3).toString('hex'));
  const name = run.clusterName('three');
  const controlPlane = `${name}-control-plane`;
  const worker = `${name}-worker`;
  const worker2 = `${name}-worker2`;
  let hostPort: number;
  let created: CreateClusterResult;
  let kubectl: Kubectl;
  const exported = new Set<string>();

  const exportOnce = async (cluster: string, why: string): Promise<void> => {
    if (exported.has(cluster) || (await clusterObjects(run.engine, cluster)).length === 0) return;
    exported.add(cluster);
    await run.exportLogs(cluster, why);
  };

  before(async function () {
    this.timeout(20 * 60_000);
    await run.prepare();
    hostPort = await freePort();
    try {
      created = await run.createCluster(name, { config: clusterConfig(hostPort) });
    } catch (error) {
      await exportOnce(name, 'create failed');
      throw error;
    }
    kubectl = await run.kubectl(created);
    await run.loadTestImage(name);
  });

  afterEach(async function () {
    if (this.currentTest?.state === 'failed') await exportOnce(name, `"${this.currentTest.title}" failed`);
  });

  after(async function () {
    this.timeout(5 * 60_000);
    await run.cleanUp([name]);
  });

  it('creates three nodes, all Ready, with their roles', async () => {
    expect(created.nodes.map((n) => [n.name, n.role])).to.deep.equal([
      [controlPlane, 'control-plane'],
      [worker, 'worker'],
      [worker2, 'worker'],
    ]);
    expect(await nodesReady(kubectl)).to.deep.equal([controlPlane, worker, worker2]);
    const nodes = await kubectl.json<NodeList>(['get', 'nodes']);
    const cp = nodes.items.find((n) => n.metadata.name === controlPlane);
    expect(cp?.metadata.labels).to.have.property('node-role.kubernetes.io/control-plane');
    // Each node got its own slice of the pod subnet.
    const cidrs = nodes.items.map((n) => n.spec.podCIDR ?? '');
    expect(new Set(cidrs).size).to.equal(3);
    for (const cidr of cidrs) expect(cidr).to.match(/^10\.244\.\d+\.0\/24$/);
  });

  it('applies the config: a kubelet patch on every node, node labels on their node', async () => {
    const nodes = await kubectl.json<NodeList>(['get', 'nodes']);
    for (const node of nodes.items)
      expect(node.status.capacity.pods, node.metadata.name).to.equal(patchedMaxPods);
    const labelled = nodes.items.filter((n) => n.metadata.labels.tier === 'e2e').map((n) => n.metadata.name);
    expect(labelled).to.deep.equal([worker2]);
  });

  it('publishes the extraPortMappings host port on the worker container', async () => {
    const info = await run.engine.containers.inspect(worker);
    const published = info.ports.find((p) => p.containerPort === nodePort);
    expect(published).to.include({ hostIp: '127.0.0.1', hostPort, protocol: 'tcp' });
  });

  it('links the nodes with Flannel VXLAN (UDP 8472)', async () => {
    for (const node of [controlPlane, worker, worker2]) {
      const link = await run.engine.containers.exec(node, { cmd: ['ip', '-d', 'link', 'show', 'flannel.1'] });
      expect(link.exitCode, `${node}: ${link.stderr}`).to.equal(0);
      expect(link.stdout).to.match(/vxlan id \d+ .*dstport 8472/);
    }
  });

  describe('workloads', () => {
    let webA: PodStatus;
    let webB: PodStatus;
    let clusterIp: string;
    let apiIp: string;

    before(async function () {
      this.timeout(10 * 60_000);
      if (kubectl === undefined) throw new Error('no cluster (its create failed above)');
      await kubectl.apply([
        // The one backend of the services, on the first worker.
        httpServer('web-a', run.image, { node: worker, labels: { app: 'web' } }),
        // A second server on the other worker, for pod-to-pod traffic the other way.
        httpServer('web-b', run.image, { node: worker2 }),
        idlePod('client-same', run.image, { node: worker }),
        idlePod('client-other', run.image, { node: worker2 }),
        service('web', { app: 'web' }),
        service('web-np', { app: 'web' }, { type: 'NodePort', nodePort }),
      ]);
      await waitForPods(kubectl, ['web-a', 'web-b', 'client-same', 'client-other']);
      webA = await getPod(kubectl, 'web-a');
      webB = await getPod(kubectl, 'web-b');
      clusterIp = (await kubectl.json<ServiceJson>(['get', 'service', 'web'])).spec.clusterIP;
      apiIp = (await kubectl.json<ServiceJson>(['get', 'service', 'kubernetes'])).spec.clusterIP;
    });

    it('runs pods on the nodes they are pinned to, with pod IPs from each node’s range', async () => {
      expect(webA.spec.nodeName).to.equal(worker);
      expect(webB.spec.nodeName).to.equal(worker2);
      const nodes = await kubectl.json<NodeList>(['get', 'nodes']);
      const cidrOf = (node: string): string =>
        nodes.items.find((n) => n.metadata.name === node)?.spec.podCIDR?.replace(/\.0\/24$/, '.') ?? 'none';
      expect(webA.status.podIP).to.satisfy((ip: string) => ip.startsWith(cidrOf(worker)));
      expect(webB.status.podIP).to.satisfy((ip: string) => ip.startsWith(cidrOf(worker2)));
    });

    it('carries pod-to-pod traffic between nodes (pod IP to pod IP, both ways)', async () => {
      expect(await httpGet(kubectl, 'client-other', `${webA.status.podIP}:${httpPort}`)).to.equal('web-a');
      expect(await httpGet(kubectl, 'client-same', `${webB.status.podIP}:${httpPort}`)).to.equal('web-b');
      // ICMP too, not only TCP.
      const ping = await execIn(kubectl, 'client-same', `ping -c 2 -W 3 ${webB.status.podIP}`);
      expect(ping.code, `${ping.stdout}${ping.stderr}`).to.equal(0);
    });

    it('answers a ClusterIP service from a pod on another node', async () => {
      for (let i = 0; i < 3; i += 1) {
        expect(await httpGet(kubectl, 'client-other', `${clusterIp}:${httpPort}`)).to.equal('web-a');
      }
    });

    it('answers a ClusterIP service from a pod on the same node as its backend', async () => {
      for (let i = 0; i < 3; i += 1) {
        expect(await httpGet(kubectl, 'client-same', `${clusterIp}:${httpPort}`)).to.equal('web-a');
      }
    });

    it('resolves kubernetes.default and a service name', async () => {
      const api = await execIn(kubectl, 'client-other', 'nslookup kubernetes.default.svc.cluster.local');
      expect(nslookupAddresses(api.stdout), `${api.stdout}${api.stderr}`).to.deep.equal([apiIp]);
      const web = await execIn(kubectl, 'client-other', 'nslookup web.default.svc.cluster.local');
      expect(nslookupAddresses(web.stdout), `${web.stdout}${web.stderr}`).to.deep.equal([clusterIp]);
      // Short names through the pod's search path, as applications use them (libc resolver).
      expect(await httpGet(kubectl, 'client-other', `web:${httpPort}`)).to.equal('web-a');
      expect(await httpGet(kubectl, 'client-same', `web.default:${httpPort}`)).to.equal('web-a');
      const short = await execIn(kubectl, 'client-other', 'ping -c 1 -W 1 kubernetes.default 2>&1 | head -1');
      expect(short.stdout).to.contain(`(${apiIp})`);
    });

    it('answers a NodePort from the host through extraPortMappings', async () => {
      const body = await eventually('the NodePort through the host port', 60_000, () =>
        hostHttpGet(hostPort),
      );
      expect(body).to.equal('web-a');
    });

    it('shows pod output with `kubectl logs`', async () => {
      const logs = await kubectl.ok(['logs', 'web-a']);
      expect(logs).to.contain('serving web-a');
    });

    it('runs commands in a pod with `kubectl exec`, stdin included', async () => {
      expect((await kubectl.ok(['exec', 'web-b', '--', 'sh', '-c', 'echo $POD_NAME'])).trim()).to.equal(
        'web-b',
      );
      const echoed = await kubectl.ok(['exec', '-i', 'client-other', '--', 'sh', '-c', 'tr a-z A-Z'], {
        stdin: 'through the api server\n',
      });
      expect(echoed).to.equal('THROUGH THE API SERVER\n');
    });

    it('forwards a host port to a pod with `kubectl port-forward`', async function () {
      this.timeout(60_000);
      const forward = kubectl.start(['port-forward', 'pod/web-b', `:${httpPort}`]);
      try {
        let output = '';
        forward.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
        const port = await new Promise<number>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`port-forward did not start: ${output}`)), 30_000);
          forward.stdout?.on('data', (chunk: Buffer) => {
            output += chunk.toString();
            const match = /Forwarding from 127\.0\.0\.1:(\d+)/.exec(output);
            if (match !== null) {
              clearTimeout(timer);
              resolve(Number(match[1]));
            }
          });
          forward.once('exit', (code) => reject(new Error(`port-forward exited ${code}: ${output}`)));
        });
        expect(await hostHttpGet(port)).to.equal('web-b');
      } finally {
        forward.kill('SIGTERM');
        if (forward.exitCode === null) await once(forward, 'exit');
      }
    });
  });

  describe('with a second cluster at the same time', () => {
    const second = run.clusterName('two');
    let createRun: Awaited<ReturnType<E2eRun['kur']>>;
    let secondKubectl: Kubectl;

    before(async function () {
      this.timeout(20 * 60_000);
      if (kubectl === undefined) throw new Error('no first cluster (its create failed above)');
      // Not quiet: progress must go to stderr while stdout carries only the JSON result.
      createRun = await run.kur([
        '-o',
        'json',
        'create',
        'cluster',
        '--name',
        second,
        '--kubeconfig',
        run.kubeconfigPath(second),
      ]);
      if (createRun.code !== 0) {
        await exportOnce(second, 'create failed');
        throw new Error(`kur create cluster --name ${second} failed: ${describeRun(createRun)}`);
      }
      const result = JSON.parse(createRun.stdout.slice(createRun.stdout.indexOf('{'))) as CreateClusterResult;
      secondKubectl = await run.kubectl(result);
    });

    afterEach(async function () {
      if (this.currentTest?.state === 'failed')
        await exportOnce(second, `"${this.currentTest.title}" failed`);
    });

    after(async function () {
      this.timeout(5 * 60_000);
      if (run.engine !== undefined) await run.forceDelete(second);
    });

    it('prints progress on stderr and only the JSON result on stdout', () => {
      const result = parseJson<CreateClusterResult>(createRun, 'create cluster -o json');
      expect(result.name).to.equal(second);
      expect(createRun.stderr).to.contain('Start the control plane');
    });

    it('lists both clusters, and both answer kubectl', async () => {
      const listed = await run.kur(['-o', 'json', 'get', 'clusters']);
      expectSuccess(listed, 'kur get clusters');
      const names = parseJson<{ clusters: { name: string }[] }>(listed, 'get clusters').clusters.map(
        (c) => c.name,
      );
      expect(names).to.include.members([name, second]);
      expect(await nodesReady(secondKubectl)).to.deep.equal([`${second}-control-plane`]);
      expect(await nodesReady(kubectl)).to.deep.equal([controlPlane, worker, worker2]);
    });

    it('deletes the second cluster and leaves the first one working', async function () {
      this.timeout(5 * 60_000);
      const volumes = await clusterVolumeNames(run.engine, second);
      const [deleted] = await run.deleteCluster(second);
      expect(deleted?.containers).to.deep.equal([`${second}-control-plane`]);
      expect(deleted?.networkRemoved).to.equal(false);
      expect(await clusterObjects(run.engine, second)).to.deep.equal([]);
      expect(await remainingVolumes(run.engine, volumes)).to.deep.equal([]);
      expect(kubeconfigEntries(run.kubeconfigPath(second), `kur-${second}`)).to.deep.equal([]);
      // The first cluster: its objects, kubeconfig, nodes, services and published port are intact.
      expect(await clusterObjects(run.engine, name)).to.have.length.greaterThanOrEqual(3);
      expect(await kurNetworkExists(run.engine)).to.equal(true);
      expect(kubeconfigEntries(run.kubeconfigPath(name), `kur-${name}`)).to.have.length(3);
      expect(await nodesReady(kubectl)).to.deep.equal([controlPlane, worker, worker2]);
      expect(await hostHttpGet(hostPort)).to.equal('web-a');
      const clusterIp = (await kubectl.json<ServiceJson>(['get', 'service', 'web'])).spec.clusterIP;
      expect(await httpGet(kubectl, 'client-other', `${clusterIp}:${httpPort}`)).to.equal('web-a');
    });
  });

  // Mocha runs a suite's own tests before its child suites: deletion is a suite so it runs last.
  describe('deletion', () => {
    it('deletes the cluster, leaving no labelled objects, no kubeconfig entries, no published port', async function () {
      this.timeout(5 * 60_000);
      const volumes = await clusterVolumeNames(run.engine, name);
      expect(volumes, 'one volume per node').to.have.length(3);
      const [deleted] = await run.deleteCluster(name);
      expect(deleted?.containers).to.deep.equal([controlPlane, worker, worker2]);
      expect(deleted?.kubeconfigEntryRemoved).to.equal(true);
      expect(await clusterObjects(run.engine, name)).to.deep.equal([]);
      expect(await remainingVolumes(run.engine, volumes)).to.deep.equal([]);
      expect(kubeconfigEntries(run.kubeconfigPath(name), `kur-${name}`)).to.deep.equal([]);
      if ((await clustersOnEngine(run.engine)).length === 0) {
        expect(await kurNetworkExists(run.engine), 'kur network with no cluster left').to.equal(false);
      }
      const refused = await hostHttpGet(hostPort, 2000).then(
        () => 'answered',
        () => 'refused',
      );
      expect(refused).to.equal('refused');
    });
  });
});
