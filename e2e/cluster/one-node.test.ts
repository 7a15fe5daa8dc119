import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
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
import { kubeconfigEntries, readKubeconfig } from '../support/kubeconfig-file.js';
import type { CreateClusterResult } from '../../src/api/results.js';
import type { DeletedCluster } from '../../src/cluster/delete.js';
import type { Kubectl } from '../support/kubectl.js';
import { execIn, getPod, idlePod, nslookupAddresses, pod, waitForPods } from '../support/workloads.js';

interface NodeList {
  items: {
    metadata: { name: string; labels: Record<string, string> };
    status: { conditions: { type: string; status: string }[]; nodeInfo: { kubeletVersion: string } };
  }[];
}

interface ServiceJson {
  spec: { clusterIP: string };
}

describeClusterEngines('one-node cluster', (target) => {
  const run = new E2eRun(target, randomBytes(3).toString('hex'));
  const name = run.clusterName('one');
  const controlPlane = `${name}-control-plane`;
  let created: CreateClusterResult;
  let kubectl: Kubectl;
  let logsExported = false;

  before(async function () {
    this.timeout(20 * 60_000);
    await run.prepare();
    try {
      created = await run.createCluster(name);
    } catch (error) {
      await run.exportLogs(name, 'create failed');
      logsExported = true;
      throw error;
    }
    kubectl = await run.kubectl(created);
  });

  afterEach(async function () {
    if (
      this.currentTest?.state === 'failed' &&
      !logsExported &&
      (await clusterObjects(run.engine, name)).length > 0
    ) {
      logsExported = true;
      await run.exportLogs(name, `"${this.currentTest.title}" failed`);
    }
  });

  after(async function () {
    this.timeout(5 * 60_000);
    await run.cleanUp([name]);
  });

  it('creates the cluster and describes it in JSON', () => {
    expect(created.name).to.equal(name);
    expect(created.context).to.equal(`kur-${name}`);
    expect(created.server).to.match(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(created.kubeconfigPath).to.equal(run.kubeconfigPath(name));
    expect(created.kubernetesVersion).to.match(/^v1\.\d+\.\d+/);
    expect(created.nodes).to.have.length(1);
    expect(created.nodes[0]).to.include({ name: controlPlane, role: 'control-plane' });
    expect(created.nodes[0]!.ipv4).to.match(/^\d+\.\d+\.\d+\.\d+$/);
    const phases = created.timings.filter((t) => !t.phase.includes(' > ')).map((t) => t.phase);
    expect(phases).to.include.members([
      'Preflight',
      'Start nodes',
      'Start the control plane',
      'Wait for nodes and DNS',
    ]);
    const sum = created.timings.filter((t) => !t.phase.includes(' > ')).reduce((s, t) => s + t.ms, 0);
    expect(created.totalMs).to.be.within(sum - phases.length, sum + phases.length);
  });

  it('merges a kubeconfig entry (mode 0600) that kubectl on the host uses, and nothing else', async () => {
    const path = run.kubeconfigPath(name);
    expect(statSync(path).mode & 0o777).to.equal(0o600);
    const config = readKubeconfig(path);
    expect(kubeconfigEntries(path, `kur-${name}`)).to.have.members([
      `cluster kur-${name}`,
      `user kur-${name}`,
      `context kur-${name}`,
    ]);
    expect(config['current-context']).to.equal(`kur-${name}`);
    expect(config.clusters?.find((c) => c.name === `kur-${name}`)?.cluster?.server).to.equal(created.server);
    // kur was given --kubeconfig: the default file under HOME must not exist.
    expect(existsSync(join(run.home, '.kube', 'config'))).to.equal(false);

    const nodes = await kubectl.json<NodeList>(['get', 'nodes']);
    expect(nodes.items.map((n) => n.metadata.name)).to.deep.equal([controlPlane]);
    const node = nodes.items[0]!;
    expect(node.status.conditions.find((c) => c.type === 'Ready')?.status).to.equal('True');
    expect(node.status.nodeInfo.kubeletVersion).to.equal(created.kubernetesVersion);
  });

  it('has CoreDNS ready and every kube-system pod running', async () => {
    const pods = await kubectl.json<{ items: { metadata: { name: string }; status: { phase: string } }[] }>([
      '-n',
      'kube-system',
      'get',
      'pods',
    ]);
    const coredns = pods.items.filter((p) => p.metadata.name.startsWith('coredns-'));
    expect(coredns.length, 'coredns pods').to.be.greaterThan(0);
    const notRunning = pods.items.filter((p) => p.status.phase !== 'Running');
    expect(notRunning.map((p) => `${p.metadata.name}: ${p.status.phase}`)).to.deep.equal([]);
  });

  it('loads a locally built image with `kur load docker-image`, once', async () => {
    const first = await run.loadTestImage(name);
    expect(first.images).to.deep.equal([run.image]);
    expect(first.loaded[controlPlane]).to.deep.equal([run.image]);
    const again = await run.loadTestImage(name);
    expect(again.loaded[controlPlane]).to.deep.equal([]);
    expect(again.skipped[controlPlane]).to.deep.equal([run.image]);
  });

  it('runs a pod from the loaded image with imagePullPolicy: Never', async () => {
    const imageId = (await run.engine.images.inspect(run.image)).id;
    await kubectl.apply([
      pod('hello', run.image, {
        command: ['sh', '-c', 'echo "hello from $POD_NAME"'],
        restartPolicy: 'Never',
      }),
    ]);
    await waitForPods(kubectl, ['hello'], { phase: 'Succeeded' });
    expect((await kubectl.ok(['logs', 'hello'])).trim()).to.equal('hello from hello');
    const status = await getPod(kubectl, 'hello');
    expect(status.spec.nodeName).to.equal(controlPlane);
    expect(status.status.containerStatuses?.[0]?.image).to.equal(run.image);
    // The node's CRI holds that name with the engine's image ID (config digest): the very image
    // loaded, not something pulled.
    const cri = await run.engine.containers.exec(controlPlane, {
      cmd: ['crictl', 'images', '-o', 'json'],
      check: true,
    });
    const images = (JSON.parse(cri.stdout) as { images: { id: string; repoTags: string[] }[] }).images;
    expect(images.find((i) => i.repoTags.includes(run.image))?.id).to.equal(imageId);
  });

  it('does not pull an image that was not loaded (ErrImageNeverPull)', async () => {
    const absent = `kur.local/e2e-absent:${run.id}`;
    await kubectl.apply([
      pod('absent', run.image, { command: ['true'], image: absent, restartPolicy: 'Never' }),
    ]);
    const reason = await eventually('the absent image to be reported', 60_000, async () => {
      const state = (await getPod(kubectl, 'absent')).status.containerStatuses?.[0]?.state;
      const waiting = state?.waiting as { reason?: string } | undefined;
      return waiting?.reason !== undefined && waiting.reason !== 'ContainerCreating'
        ? waiting.reason
        : undefined;
    });
    expect(reason).to.equal('ErrImageNeverPull');
    await kubectl.ok(['delete', 'pod', 'absent', '--wait=false']);
  });

  it('answers DNS lookups from a pod through CoreDNS', async () => {
    await kubectl.apply([idlePod('dns-client', run.image)]);
    await waitForPods(kubectl, ['dns-client']);
    const dnsIp = (await kubectl.json<ServiceJson>(['-n', 'kube-system', 'get', 'service', 'kube-dns'])).spec
      .clusterIP;
    const apiIp = (await kubectl.json<ServiceJson>(['get', 'service', 'kubernetes'])).spec.clusterIP;
    const resolv = await execIn(kubectl, 'dns-client', 'cat /etc/resolv.conf');
    expect(resolv.stdout).to.match(new RegExp(`^nameserver ${dnsIp.replace(/\./g, '\\.')}$`, 'm'));
    const lookup = await execIn(kubectl, 'dns-client', 'nslookup kubernetes.default.svc.cluster.local');
    expect(lookup.code, `${lookup.stdout}${lookup.stderr}`).to.equal(0);
    expect(lookup.stdout).to.contain(dnsIp);
    expect(nslookupAddresses(lookup.stdout)).to.deep.equal([apiIp]);
    const missing = await execIn(kubectl, 'dns-client', 'nslookup no-such-service.default.svc.cluster.local');
    expect(`${missing.stdout}${missing.stderr}`).to.match(/NXDOMAIN|can't find/);
  });

  it('lists the cluster with `get clusters`, `get nodes` and `get kubeconfig`', async () => {
    const clusters = await run.kur(['-o', 'json', 'get', 'clusters']);
    expectSuccess(clusters, 'kur get clusters');
    const listed = parseJson<{
      clusters: { name: string; nodes: { name: string; role: string; state: string; image: string }[] }[];
    }>(clusters, 'get clusters').clusters;
    const ours = listed.find((c) => c.name === name);
    expect(ours?.nodes).to.have.length(1);
    expect(ours?.nodes[0]).to.include({ name: controlPlane, role: 'control-plane', state: 'running' });
    expect(ours?.nodes[0]?.image).to.match(/^kur\.local\/node:v1\./);

    const text = await run.kur(['get', 'clusters']);
    // The text is a table now (NAME, STATE, NODES): the name is the first column of a line.
    expect(text.stdout.split('\n').map((line) => line.split(/\s+/)[0])).to.include(name);

    const nodes = await run.kur(['-o', 'json', 'get', 'nodes', '--name', name]);
    expectSuccess(nodes, 'kur get nodes');
    const nodeList = parseJson<{ cluster: string; nodes: { name: string; role: string }[] }>(
      nodes,
      'get nodes',
    );
    expect(nodeList.cluster).to.equal(name);
    expect(nodeList.nodes.map((n) => n.name)).to.deep.equal([controlPlane]);

    const external = await run.kur(['-o', 'json', 'get', 'kubeconfig', '--name', name]);
    expectSuccess(external, 'kur get kubeconfig');
    const ext = parseJson<{ kubeconfig: string; server: string; context: string }>(
      external,
      'get kubeconfig',
    );
    expect(ext).to.include({ server: created.server, context: `kur-${name}` });
    expect(ext.kubeconfig).to.contain(`server: ${created.server}`);

    const internal = await run.kur(['-o', 'json', 'get', 'kubeconfig', '--internal', '--name', name]);
    expectSuccess(internal, 'kur get kubeconfig --internal');
    expect(parseJson<{ server: string }>(internal, 'get kubeconfig --internal').server).to.equal(
      `https://${controlPlane}:6443`,
    );
  });

  it('exports logs: journal, kubelet, containerd and the engine inspect of the node', async () => {
    const dir = join(run.dir, 'exported-logs');
    const result = await run.kur(['-o', 'json', 'export', 'logs', dir, '--name', name]);
    expectSuccess(result, 'kur export logs');
    const exported = parseJson<{ dir: string; nodes: string[]; problems: string[] }>(result, 'export logs');
    expect(exported.nodes).to.deep.equal([controlPlane]);
    expect(exported.problems).to.deep.equal([]);
    const nodeDir = join(dir, controlPlane);
    expect(readFileSync(join(nodeDir, 'kubelet.log'), 'utf8')).to.match(/kubelet/i);
    expect(readFileSync(join(nodeDir, 'containerd.log'), 'utf8')).to.match(/containerd/i);
    const inspect = JSON.parse(readFileSync(join(nodeDir, 'inspect.json'), 'utf8')) as { name: string };
    expect(inspect.name).to.equal(controlPlane);
    expect(statSync(join(nodeDir, 'var-log.tar')).size).to.be.greaterThan(0);
  });

  it('deletes the cluster, leaving no labelled objects and no kubeconfig entries', async function () {
    this.timeout(5 * 60_000);
    const volumes = await clusterVolumeNames(run.engine, name);
    expect(volumes, 'the node volume').to.have.length(1);
    const deleted = await run.deleteCluster(name);
    expect(deleted).to.have.length(1);
    const [result] = deleted as [DeletedCluster];
    expect(result.name).to.equal(name);
    expect(result.containers).to.deep.equal([controlPlane]);
    expect(result.kubeconfigEntryRemoved).to.equal(true);
    expect(await clusterObjects(run.engine, name)).to.deep.equal([]);
    expect(await remainingVolumes(run.engine, volumes)).to.deep.equal([]);
    expect(kubeconfigEntries(run.kubeconfigPath(name), `kur-${name}`)).to.deep.equal([]);
    expect(readKubeconfig(run.kubeconfigPath(name))['current-context'] ?? '').to.not.equal(`kur-${name}`);
    // The shared network goes with the last cluster; other suites' clusters may still use it.
    const others = await clustersOnEngine(run.engine);
    expect(result.networkRemoved).to.equal(!(await kurNetworkExists(run.engine)));
    if (others.length === 0) expect(await kurNetworkExists(run.engine), 'kur network').to.equal(false);
  });

  it('deletes again without error, saying there was nothing to delete', async () => {
    const again = await run.kur(run.deleteArgs(name));
    expect(again.code, describeRun(again)).to.equal(0);
    expect(again.stdout).to.contain(`Cluster "${name}" does not exist`);
    const json = await run.deleteCluster(name);
    expect(json).to.deep.equal([
      { name, containers: [], volumes: [], networkRemoved: false, kubeconfigEntryRemoved: false },
    ]);
    const nodes = await run.kur(['get', 'nodes', '--name', name]);
    expect(nodes.code, describeRun(nodes)).to.equal(6);
    expect(nodes.stderr).to.contain(`no cluster named "${name}"`);
  });
});
