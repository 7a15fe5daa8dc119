import { expect } from 'chai';
import { parse as parseToml } from 'smol-toml';
import { parseAllDocuments } from 'yaml';
import { normalizeClusterConfig } from '../config/load.js';
import type { ClusterConfigInput } from '../config/types.js';
import { isKurError } from '../util/errors.js';
import type { ClusterFacts } from './plan.js';
import { nodePaths } from '../node/layout.js';
import { kubeadmConfigFile, planCluster } from './plan.js';

const facts: ClusterFacts = {
  rootless: false,
  cgroupVersion: 2,
  cgroupDriver: 'systemd',
  snapshotter: 'overlayfs',
  provider: 'docker',
  kubernetesVersion: 'v1.37.2',
  images: {
    node: 'kur.local/node:v1.37.2',
    pause: 'registry.k8s.io/pause:3.10.2',
    flannel: 'ghcr.io/flannel-io/flannel:v0.27.4',
  },
};
const token = 'abcdef.0123456789abcdef';
const key = '0f'.repeat(32);

function plan(input: ClusterConfigInput, f: ClusterFacts = facts) {
  return planCluster(normalizeClusterConfig(input), f);
}

function kubeadmDocs(content: string): Record<string, unknown>[] {
  return parseAllDocuments(content).map((d) => d.toJS() as Record<string, unknown>);
}

describe('planCluster', () => {
  it('local registries: a hosts.toml per registry on every node, config_path set; none without', () => {
    const registries = [{ name: 'reg', hostPort: 5001, containerPort: 5000 }];
    const p = plan(
      { name: 'dev', registries: ['reg'], nodes: [{ role: 'control-plane' }, { role: 'worker' }] },
      { ...facts, registries },
    );
    for (const node of p.nodes) {
      const hosts = node.files.find((f) => f.path === '/etc/containerd/certs.d/localhost:5001/hosts.toml');
      expect(parseToml(hosts!.content)).to.deep.equal({
        server: 'http://reg:5000',
        host: { 'http://reg:5000': { capabilities: ['pull', 'resolve'] } },
      });
      const config = parseToml(node.files.find((f) => f.path === nodePaths.containerdConfig)!.content);
      const images = (config.plugins as Record<string, Record<string, unknown>>)[
        'io.containerd.cri.v1.images'
      ]!;
      expect(images.registry).to.deep.equal({ config_path: '/etc/containerd/certs.d' });
    }
    const without = plan({ name: 'dev' });
    expect(without.nodes[0]!.files.map((f) => f.path)).to.not.include.members([
      '/etc/containerd/certs.d/localhost:5001/hosts.toml',
    ]);
    const config = parseToml(without.nodes[0]!.files[0]!.content);
    const images = (config.plugins as Record<string, Record<string, unknown>>)[
      'io.containerd.cri.v1.images'
    ]!;
    expect(images).to.not.have.property('registry');
  });

  it('one node: kind-style name, API server published on the node, schedulable, Flannel from the bootstrap node', () => {
    const p = plan({ name: 'dev' });
    expect(p.context).to.equal('kur-dev');
    expect(p.controlPlaneEndpoint).to.equal('dev-control-plane:6443');
    expect(p.loadBalancer).to.equal(undefined);
    expect(p.schedulableControlPlanes).to.equal(true);
    const [node] = p.nodes;
    expect(node).to.deep.include({
      name: 'dev-control-plane',
      role: 'control-plane',
      bootstrap: true,
      image: 'kur.local/node:v1.37.2',
    });
    expect(node!.portMappings).to.deep.equal([
      { containerPort: 6443, hostPort: 0, listenAddress: '127.0.0.1', protocol: 'TCP' },
    ]);
    expect(node!.files.map((f) => [f.path, f.mode])).to.deep.equal([
      [nodePaths.containerdConfig, 0o644],
      [nodePaths.flannelManifest, 0o644],
    ]);
  });

  it('HA: numbered names, the API server on the load balancer, control planes tainted when workers exist', () => {
    const p = plan({
      name: 'ha',
      networking: { apiServerPort: 6443 },
      nodes: [
        { role: 'control-plane' },
        { role: 'worker', extraPortMappings: [{ containerPort: 30080, hostPort: 8080 }] },
        { role: 'control-plane' },
        { role: 'worker', image: 'my/node:1' },
        { role: 'control-plane' },
      ],
    });
    expect(p.nodes.map((n) => n.name)).to.deep.equal([
      'ha-control-plane',
      'ha-worker',
      'ha-control-plane2',
      'ha-worker2',
      'ha-control-plane3',
    ]);
    expect(p.nodes.map((n) => n.bootstrap)).to.deep.equal([true, false, false, false, false]);
    expect(p.controlPlaneEndpoint).to.equal('ha-external-load-balancer:6443');
    expect(p.loadBalancer?.backends).to.deep.equal([
      'ha-control-plane',
      'ha-control-plane2',
      'ha-control-plane3',
    ]);
    expect(p.loadBalancer?.portMappings).to.deep.equal([
      { containerPort: 6443, hostPort: 6443, listenAddress: '127.0.0.1', protocol: 'TCP' },
    ]);
    expect(p.nodes[0]!.portMappings).to.deep.equal([]);
    expect(p.nodes[1]!.portMappings).to.deep.equal([
      { containerPort: 30080, hostPort: 8080, listenAddress: '127.0.0.1', protocol: 'TCP' },
    ]);
    expect(p.nodes[3]!.image).to.equal('my/node:1');
    expect(p.schedulableControlPlanes).to.equal(false);
  });

  it("gives Flannel the control-plane endpoint: the node's, or the load balancer's", () => {
    const flannelEnv = (p: ReturnType<typeof plan>) =>
      p.nodes[0]!.files.find((f) => f.path === nodePaths.flannelManifest)!.content;
    expect(flannelEnv(plan({ name: 'dev' }))).to.match(
      /name: KUBERNETES_SERVICE_HOST\n\s+value: dev-control-plane\n/,
    );
    expect(
      flannelEnv(plan({ name: 'ha', nodes: [{ role: 'control-plane' }, { role: 'control-plane' }] })),
    ).to.match(/name: KUBERNETES_SERVICE_HOST\n\s+value: ha-external-load-balancer\n/);
  });

  it('writes no CNI manifest with disableDefaultCNI, and the containerd config on every node', () => {
    const p = plan({
      networking: { disableDefaultCNI: true },
      nodes: [{ role: 'control-plane' }, { role: 'worker' }],
    });
    expect(p.cni).to.equal('none');
    expect(p.nodes.map((n) => n.files.map((f) => f.path))).to.deep.equal([
      [nodePaths.containerdConfig],
      [nodePaths.containerdConfig],
    ]);
  });

  it('carries rootless and cgroup facts into the node configs: the degraded no-cgroups mode', () => {
    const rootless: ClusterFacts = {
      ...facts,
      rootless: true,
      cgroupVersion: 1,
      cgroupDriver: 'cgroupfs',
      snapshotter: 'native',
      noCgroups: true,
      restrictOomScoreAdj: true,
    };
    const p = plan({}, rootless);
    const toml = parseToml(p.nodes[0]!.files[0]!.content) as Record<
      string,
      Record<string, Record<string, unknown>>
    >;
    const runtime = toml.plugins!['io.containerd.cri.v1.runtime']!;
    expect(runtime).to.deep.include({
      restrict_oom_score_adj: true,
      disable_apparmor: true,
      disable_hugetlb_controller: true,
    });
    expect(runtime.containerd).to.deep.nested.include({
      'runtimes.runc.options': { SystemdCgroup: false, BinaryName: '/usr/local/bin/kur-runc' },
    });
    expect(toml.plugins!['io.containerd.cri.v1.images']!.snapshotter).to.equal('native');
    const docs = kubeadmDocs(
      kubeadmConfigFile(p, 'kur-control-plane', { nodeIP: '10.89.0.2', token }).content,
    );
    const init = docs.find((d) => d.kind === 'InitConfiguration')!;
    expect((init.nodeRegistration as { kubeletExtraArgs: unknown[] }).kubeletExtraArgs).to.deep.include({
      name: 'enforce-node-allocatable',
      value: '',
    });
    // What the prototype needed for CRI pods and static pods on rootless Docker and Podman.
    const kubelet = docs.find((d) => d.kind === 'KubeletConfiguration')!;
    expect(kubelet).to.deep.include({
      failCgroupV1: false,
      cgroupDriver: 'cgroupfs',
      cgroupsPerQOS: false,
      enforceNodeAllocatable: [],
      localStorageCapacityIsolation: false,
    });
    expect(kubelet).to.not.have.property('cgroupRoot');
    expect(kubelet.featureGates).to.deep.equal({ KubeletInUserNamespace: true });
    const proxy = docs.find((d) => d.kind === 'KubeProxyConfiguration')!;
    expect(proxy.conntrack).to.deep.equal({
      maxPerCore: 0,
      tcpEstablishedTimeout: '0s',
      tcpCloseWaitTimeout: '0s',
    });
  });

  it('a rootful node without CAP_SYS_RESOURCE restricts oom_score_adj and nothing else', () => {
    const p = plan({}, { ...facts, cgroupVersion: 1, restrictOomScoreAdj: true });
    const runtime = (parseToml(p.nodes[0]!.files[0]!.content) as Record<string, Record<string, object>>)
      .plugins!['io.containerd.cri.v1.runtime']!;
    expect(runtime).to.include({ restrict_oom_score_adj: true });
    expect(runtime).to.not.have.any.keys('disable_apparmor', 'disable_hugetlb_controller');
    expect(runtime).to.deep.nested.include({ 'containerd.runtimes.runc.options': { SystemdCgroup: true } });
    // Without the fact, nothing is restricted.
    expect(plan({}).nodes[0]!.files[0]!.content).to.not.include('restrict_oom_score_adj');
  });

  it('refuses the no-cgroups mode with the systemd driver before writing anything', () => {
    expect(() => plan({}, { ...facts, rootless: true, noCgroups: true })).to.throw(/cgroupfs driver/);
  });

  it('refuses node images older than kubeadm v1beta4 (Kubernetes 1.31)', () => {
    try {
      plan({}, { ...facts, kubernetesVersion: 'v1.30.4' });
      expect.fail('expected a preflight error');
    } catch (error) {
      expect(isKurError(error, 'preflight')).to.equal(true);
    }
  });
});

describe('kubeadmConfigFile', () => {
  const ha = plan({
    name: 'ha',
    networking: { apiServerAddress: '0.0.0.0' },
    nodes: [
      { role: 'control-plane', labels: { 'example.com/a': 'x' } },
      { role: 'control-plane' },
      {
        role: 'worker',
        kubeadmConfigPatches: [
          'kind: JoinConfiguration\nnodeRegistration:\n  kubeletExtraArgs:\n    v: "3"\n',
        ],
      },
    ],
    kubeadmConfigPatches: ['kind: KubeletConfiguration\nmaxPods: 99\n'],
  });

  it('bootstrap node: init documents for the HA endpoint, SANs for every control plane and the load balancer', () => {
    const file = kubeadmConfigFile(ha, 'ha-control-plane', {
      nodeIP: '172.18.0.2',
      token,
      certificateKey: key,
    });
    expect(file.path).to.equal('/kur/kubeadm.yaml');
    expect(file.mode).to.equal(0o600);
    const docs = kubeadmDocs(file.content);
    const init = docs.find((d) => d.kind === 'InitConfiguration')!;
    const cluster = docs.find((d) => d.kind === 'ClusterConfiguration')!;
    expect(init.certificateKey).to.equal(key);
    expect(cluster.controlPlaneEndpoint).to.equal('ha-external-load-balancer:6443');
    // 0.0.0.0 is not a name anyone connects to: it is left out.
    expect((cluster.apiServer as { certSANs: string[] }).certSANs).to.deep.equal([
      'localhost',
      '127.0.0.1',
      'ha-external-load-balancer',
      'ha-control-plane',
      'ha-control-plane2',
    ]);
    expect(docs.find((d) => d.kind === 'KubeletConfiguration')!.maxPods).to.equal(99);
  });

  it('other nodes: joins with the CA pin; control planes with the certificate key; node patches on their node only', () => {
    const cp2 = kubeadmDocs(
      kubeadmConfigFile(ha, 'ha-control-plane2', {
        nodeIP: '172.18.0.3',
        token,
        certificateKey: key,
        caCertHashes: ['sha256:1'],
      }).content,
    );
    expect(cp2.map((d) => d.kind)).to.deep.equal(['JoinConfiguration']);
    expect((cp2[0]!.controlPlane as { certificateKey: string }).certificateKey).to.equal(key);
    const worker = kubeadmDocs(
      kubeadmConfigFile(ha, 'ha-worker', { nodeIP: '172.18.0.4', token, caCertHashes: ['sha256:1'] }).content,
    )[0]!;
    expect(worker).to.not.have.property('controlPlane');
    expect((worker.nodeRegistration as { kubeletExtraArgs: unknown[] }).kubeletExtraArgs).to.deep.include({
      name: 'v',
      value: '3',
    });
    expect((cp2[0]!.nodeRegistration as { kubeletExtraArgs: unknown[] }).kubeletExtraArgs).to.deep.equal([
      { name: 'node-ip', value: '172.18.0.3' },
    ]);
  });

  it('fails loudly on a missing certificate key or an unknown node', () => {
    expect(() => kubeadmConfigFile(ha, 'ha-control-plane', { nodeIP: '172.18.0.2', token })).to.throw(
      /certificate key/,
    );
    expect(() => kubeadmConfigFile(ha, 'nope', { nodeIP: '172.18.0.2', token })).to.throw(/not a node/);
  });
});
