import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { parse as parseToml } from 'smol-toml';
import { parseAllDocuments } from 'yaml';
import type { ContainerdConfigInput } from './containerd.js';
import { containerdConfig } from './containerd.js';
import { kurRuncPath } from '../node/layout.js';
import { flannelManifest } from './flannel.js';
import type { KubeadmInitInput, KubeadmJoinInput } from './kubeadm.js';
import {
  ignoredPreflightChecks,
  controllerManagerKubeconfigScript,
  kubeadmInitDocuments,
  kubeadmJoinDocuments,
  renderKubeadmConfig,
} from './kubeadm.js';
import { kubeProxyConfiguration } from './kube-proxy.js';
import { kubeletConfiguration } from './kubelet.js';
import { caCertHash, generateBootstrapToken, generateCertificateKey, isBootstrapToken } from './tokens.js';

/** Reads generated YAML back as plain objects: assertions are about what kubeadm will read. */
function yamlDocs(text: string): Record<string, unknown>[] {
  return parseAllDocuments(text).map((d) => {
    expect(d.errors).to.deep.equal([]);
    return d.toJS() as Record<string, unknown>;
  });
}

// A nested property by path, for readable assertions on parsed output.
function at(value: unknown, ...path: (string | number)[]): unknown {
  return path.reduce<unknown>((v, k) => (v as Record<string | number, unknown> | undefined)?.[k], value);
}

describe('KubeletConfiguration', () => {
  const base = {
    cgroupDriver: 'systemd' as const,
    cgroupVersion: 2 as const,
    rootless: false,
    featureGates: {},
  };

  it('rootful on cgroup v2: driver as given, node-in-a-container settings, no rootless or v1 switches', () => {
    const k = kubeletConfiguration(base);
    expect(k).to.include({
      kind: 'KubeletConfiguration',
      cgroupDriver: 'systemd',
      failSwapOn: false,
      imageGCHighThresholdPercent: 100,
    });
    expect(k.evictionHard).to.deep.include({ 'nodefs.available': '0%', 'imagefs.available': '0%' });
    expect(k).to.not.have.any.keys(
      'failCgroupV1',
      'featureGates',
      'localStorageCapacityIsolation',
      'cgroupsPerQOS',
      'enforceNodeAllocatable',
      'cgroupRoot',
    );
  });

  it('cgroup v1 host: failCgroupV1 false (Kubernetes >= 1.35 refuses v1 otherwise)', () => {
    expect(kubeletConfiguration({ ...base, cgroupVersion: 1 }).failCgroupV1).to.equal(false);
  });

  it('rootless: KubeletInUserNamespace on, next to the user gates; no local storage isolation', () => {
    const k = kubeletConfiguration({
      ...base,
      rootless: true,
      cgroupDriver: 'cgroupfs',
      featureGates: { Zeta: false, Alpha: true },
    });
    expect(k.featureGates).to.deep.equal({ Alpha: true, KubeletInUserNamespace: true, Zeta: false });
    expect(Object.keys(k.featureGates as object)).to.deep.equal(['Alpha', 'KubeletInUserNamespace', 'Zeta']);
    expect(k.localStorageCapacityIsolation).to.equal(false);
    expect(k.cgroupDriver).to.equal('cgroupfs');
  });

  it('degraded no-cgroups mode: no QoS cgroups, an explicitly empty enforcement list, no cgroupRoot', () => {
    const k = kubeletConfiguration({
      ...base,
      rootless: true,
      cgroupVersion: 1,
      noCgroups: true,
      cgroupRoot: '/kubelet',
    });
    expect(k.cgroupsPerQOS).to.equal(false);
    expect(k.enforceNodeAllocatable).to.deep.equal([]);
    expect(k).to.not.have.property('cgroupRoot');
    expect(kubeletConfiguration({ ...base, cgroupRoot: '/kubelet' }).cgroupRoot).to.equal('/kubelet');
  });
});

describe('KubeProxyConfiguration', () => {
  const base = { mode: 'iptables' as const, podSubnet: '10.244.0.0/16', rootless: false, featureGates: {} };

  it('never sizes the global conntrack table; rootful keeps the timeouts', () => {
    const p = kubeProxyConfiguration(base);
    expect(p).to.include({ kind: 'KubeProxyConfiguration', mode: 'iptables', clusterCIDR: '10.244.0.0/16' });
    expect(p.conntrack).to.deep.equal({ maxPerCore: 0 });
    expect(at(p, 'iptables', 'minSyncPeriod')).to.equal('1s');
  });

  it('rootless: skips the conntrack sysctls it cannot write', () => {
    expect(kubeProxyConfiguration({ ...base, rootless: true }).conntrack).to.deep.equal({
      maxPerCore: 0,
      tcpEstablishedTimeout: '0s',
      tcpCloseWaitTimeout: '0s',
    });
  });

  it('nftables: liberal TCP conntrack when rootful only, its own sync settings', () => {
    const rootful = kubeProxyConfiguration({ ...base, mode: 'nftables' });
    expect(at(rootful, 'conntrack', 'tcpBeLiberal')).to.equal(true);
    expect(at(rootful, 'nftables', 'minSyncPeriod')).to.equal('1s');
    expect(rootful).to.not.have.property('iptables');
    expect(
      kubeProxyConfiguration({ ...base, mode: 'nftables', rootless: true }).conntrack,
    ).to.not.have.property('tcpBeLiberal');
  });
});

describe('containerd config', () => {
  const base: ContainerdConfigInput = {
    cgroupDriver: 'systemd',
    snapshotter: 'overlayfs',
    sandboxImage: 'registry.k8s.io/pause:3.10.2',
    rootless: false,
    restrictOomScoreAdj: false,
    patches: [],
    patchesJSON6902: [],
  };
  const images = (t: Record<string, unknown>) => at(t, 'plugins', 'io.containerd.cri.v1.images');
  const runtime = (t: Record<string, unknown>) => at(t, 'plugins', 'io.containerd.cri.v1.runtime');

  it('rootful, systemd: version 3 tables, runc with SystemdCgroup, pinned sandbox, layers kept', () => {
    const t = parseToml(containerdConfig(base));
    expect(t.version).to.equal(3);
    expect(images(t)).to.deep.include({ snapshotter: 'overlayfs', discard_unpacked_layers: false });
    expect(at(images(t), 'pinned_images', 'sandbox')).to.equal('registry.k8s.io/pause:3.10.2');
    expect(at(runtime(t), 'containerd', 'runtimes', 'runc', 'options', 'SystemdCgroup')).to.equal(true);
    expect(at(runtime(t), 'cni')).to.deep.equal({ bin_dirs: ['/opt/cni/bin'], conf_dir: '/etc/cni/net.d' });
    expect(runtime(t)).to.not.have.any.keys(
      'disable_apparmor',
      'restrict_oom_score_adj',
      'disable_hugetlb_controller',
    );
    expect(at(runtime(t), 'containerd', 'runtimes', 'runc', 'options')).to.not.have.property('BinaryName');
    expect(t).to.not.have.property('proxy_plugins');
    expect(t.imports).to.deep.equal(['/etc/containerd/conf.d/*.toml']);
  });

  it('rootless with fuse-overlayfs and cgroupfs: userns switches, the proxy snapshotter, SystemdCgroup false', () => {
    const t = parseToml(
      containerdConfig({ ...base, rootless: true, cgroupDriver: 'cgroupfs', snapshotter: 'fuse-overlayfs' }),
    );
    expect(runtime(t)).to.deep.include({
      disable_apparmor: true,
      restrict_oom_score_adj: true,
      disable_hugetlb_controller: true,
    });
    expect(at(runtime(t), 'containerd', 'runtimes', 'runc', 'options', 'SystemdCgroup')).to.equal(false);
    expect(at(images(t), 'snapshotter')).to.equal('fuse-overlayfs');
    expect(at(t, 'proxy_plugins', 'fuse-overlayfs')).to.deep.equal({
      type: 'snapshot',
      address: '/run/containerd-fuse-overlayfs.sock',
    });
  });

  it('rootful without CAP_SYS_RESOURCE: only restrict_oom_score_adj (runc cannot lower the sandbox to -998)', () => {
    const t = parseToml(containerdConfig({ ...base, restrictOomScoreAdj: true }));
    expect(at(runtime(t), 'restrict_oom_score_adj')).to.equal(true);
    expect(runtime(t)).to.not.have.any.keys('disable_apparmor', 'disable_hugetlb_controller');
    expect(at(runtime(t), 'containerd', 'runtimes', 'runc', 'options')).to.deep.equal({
      SystemdCgroup: true,
    });
  });

  it('degraded no-cgroups mode: runc through kur-runc, cgroupfs, every userns switch', () => {
    const t = parseToml(
      containerdConfig({ ...base, rootless: true, cgroupDriver: 'cgroupfs', noCgroups: true }),
    );
    expect(at(runtime(t), 'containerd', 'runtimes', 'runc')).to.deep.equal({
      runtime_type: 'io.containerd.runc.v2',
      options: { SystemdCgroup: false, BinaryName: '/usr/local/bin/kur-runc' },
    });
    expect(runtime(t)).to.deep.include({
      disable_apparmor: true,
      restrict_oom_score_adj: true,
      disable_hugetlb_controller: true,
    });
    expect(kurRuncPath).to.equal('/usr/local/bin/kur-runc');
  });

  it('refuses the no-cgroups mode with the systemd driver (runc would still ask systemd for a scope)', () => {
    expect(() => containerdConfig({ ...base, rootless: true, noCgroups: true })).to.throw(/cgroupfs driver/);
  });

  it("merges the user's TOML and JSON patches into the generated tables", () => {
    const t = parseToml(
      containerdConfig({
        ...base,
        patches: [
          "[plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]\nBinaryName = '/usr/local/bin/crun'\n",
        ],
        patchesJSON6902: [
          '[{"op":"replace","path":"/plugins/io.containerd.cri.v1.images/snapshotter","value":"native"}]',
        ],
      }),
    );
    expect(at(runtime(t), 'containerd', 'runtimes', 'runc', 'options')).to.deep.equal({
      SystemdCgroup: true,
      BinaryName: '/usr/local/bin/crun',
    });
    expect(at(images(t), 'snapshotter')).to.equal('native');
  });
});

describe('kubeadm configs', () => {
  const token = 'abcdef.0123456789abcdef';
  const key = 'a'.repeat(64);
  const init: KubeadmInitInput = {
    cluster: {
      clusterName: 'dev',
      kubernetesVersion: 'v1.37.2',
      controlPlaneEndpoint: 'dev-control-plane:6443',
      certSANs: ['localhost', '127.0.0.1', 'dev-control-plane', 'localhost'],
      podSubnet: '10.244.0.0/16',
      serviceSubnet: '10.96.0.0/16',
      featureGates: {},
      runtimeConfig: {},
    },
    node: {
      name: 'dev-control-plane',
      ip: '172.18.0.2',
      role: 'control-plane',
      labels: { 'example.com/b': '2', 'example.com/a': '1' },
    },
    bootstrapToken: token,
    schedulableControlPlanes: true,
    kubelet: { cgroupDriver: 'systemd', cgroupVersion: 2, rootless: false, featureGates: {} },
    kubeProxy: { mode: 'iptables', podSubnet: '10.244.0.0/16', rootless: false, featureGates: {} },
    patches: [],
  };

  it('init: the four documents, node registration for a preloaded, containerized node', () => {
    const [i, c, k, p] = yamlDocs(renderKubeadmConfig(kubeadmInitDocuments(init), [], 'test'));
    expect([i, c, k, p].map((d) => d?.kind)).to.deep.equal([
      'InitConfiguration',
      'ClusterConfiguration',
      'KubeletConfiguration',
      'KubeProxyConfiguration',
    ]);
    expect(i?.apiVersion).to.equal('kubeadm.k8s.io/v1beta4');
    expect(at(i, 'bootstrapTokens', 0, 'token')).to.equal(token);
    expect(i?.localAPIEndpoint).to.deep.equal({ advertiseAddress: '172.18.0.2', bindPort: 6443 });
    expect(at(i, 'nodeRegistration')).to.deep.include({
      name: 'dev-control-plane',
      criSocket: 'unix:///run/containerd/containerd.sock',
      imagePullPolicy: 'Never',
      taints: [],
      ignorePreflightErrors: ['SystemVerification', 'NumCPU', 'Mem'],
    });
    expect(at(i, 'nodeRegistration', 'kubeletExtraArgs')).to.deep.equal([
      { name: 'node-ip', value: '172.18.0.2' },
      { name: 'node-labels', value: 'example.com/a=1,example.com/b=2' },
    ]);
    expect(i).to.not.have.property('certificateKey');
    expect(c).to.deep.include({
      clusterName: 'dev',
      kubernetesVersion: 'v1.37.2',
      controlPlaneEndpoint: 'dev-control-plane:6443',
      certificatesDir: '/etc/kubernetes/pki',
    });
    expect(c?.networking).to.deep.equal({
      podSubnet: '10.244.0.0/16',
      serviceSubnet: '10.96.0.0/16',
      dnsDomain: 'cluster.local',
    });
    expect(at(c, 'etcd', 'local', 'dataDir')).to.equal('/var/lib/etcd');
    expect(at(c, 'etcd', 'local', 'extraArgs')).to.deep.equal([{ name: 'unsafe-no-fsync', value: 'true' }]);
    expect(i).to.deep.include({ patches: { directory: '/etc/kubernetes/kur-patches' } });
    expect(at(c, 'apiServer', 'certSANs')).to.deep.equal(['localhost', '127.0.0.1', 'dev-control-plane']);
    // No gates and no runtime config: no empty flags.
    expect(at(c, 'apiServer', 'extraArgs')).to.deep.equal([]);
    // One control plane: nobody to elect.
    expect(at(c, 'scheduler', 'extraArgs')).to.deep.equal([{ name: 'leader-elect', value: 'false' }]);
    expect(at(c, 'controllerManager', 'extraArgs')).to.deep.include({ name: 'leader-elect', value: 'false' });
    // ...and its controllers run with the controller manager's own (system:masters) credentials.
    expect(at(c, 'controllerManager', 'extraArgs')).to.deep.include({
      name: 'use-service-account-credentials',
      value: 'false',
    });
    const script = controllerManagerKubeconfigScript('/kur/kubeadm.yaml');
    expect(script).to.include('kubeadm init phase certs ca --config=/kur/kubeadm.yaml');
    expect(script).to.include('--client-name=system:kube-controller-manager --org=system:masters');
    expect(script).to.match(
      /mv \/etc\/kubernetes\/controller-manager\.conf\.tmp \/etc\/kubernetes\/controller-manager\.conf$/,
    );
  });

  it('explains every ignored preflight check in a comment', () => {
    const text = renderKubeadmConfig(kubeadmInitDocuments(init), [], 'test');
    for (const reason of Object.values(ignoredPreflightChecks)) expect(text).to.include(`# ${reason}`);
  });

  it('passes feature gates to every component and runtime-config to the API server', () => {
    const docs = kubeadmInitDocuments({
      ...init,
      cluster: {
        ...init.cluster,
        featureGates: { B: false, A: true },
        runtimeConfig: { 'api/alpha': 'true' },
      },
    });
    const c = docs[1];
    const gates = { name: 'feature-gates', value: 'A=true,B=false' };
    expect(at(c, 'apiServer', 'extraArgs')).to.deep.equal([
      { name: 'runtime-config', value: 'api/alpha=true' },
      gates,
    ]);
    expect(at(c, 'controllerManager', 'extraArgs')).to.deep.include(gates);
    expect(at(c, 'scheduler', 'extraArgs')).to.deep.include(gates);
  });

  it('keeps the control-plane taint when there are workers, and sets the certificate key for HA', () => {
    const [i] = kubeadmInitDocuments({ ...init, schedulableControlPlanes: false, certificateKey: key });
    expect(at(i, 'nodeRegistration')).to.not.have.property('taints');
    expect(i?.certificateKey).to.equal(key);
    // Several control planes elect their controller manager and scheduler.
    const c = kubeadmInitDocuments({ ...init, schedulableControlPlanes: false, certificateKey: key })[1];
    expect(at(c, 'scheduler', 'extraArgs')).to.deep.equal([]);
    expect(at(c, 'controllerManager', 'extraArgs')).to.deep.equal([
      { name: 'enable-hostpath-provisioner', value: 'true' },
    ]);
  });

  const join: KubeadmJoinInput = {
    node: { name: 'dev-worker', ip: '172.18.0.3', role: 'worker', labels: {} },
    controlPlaneEndpoint: 'dev-control-plane:6443',
    bootstrapToken: token,
    caCertHashes: ['sha256:abc'],
    schedulableControlPlanes: false,
    patches: [],
  };

  it('worker join: token discovery pinned to the CA hash, no control-plane section, no taints', () => {
    const [j] = yamlDocs(renderKubeadmConfig(kubeadmJoinDocuments(join), [], 'test'));
    expect(j?.kind).to.equal('JoinConfiguration');
    expect(at(j, 'discovery', 'bootstrapToken')).to.deep.equal({
      apiServerEndpoint: 'dev-control-plane:6443',
      token,
      caCertHashes: ['sha256:abc'],
    });
    expect(j).to.not.have.property('controlPlane');
    expect(at(j, 'nodeRegistration')).to.not.have.property('taints');
    expect(at(j, 'nodeRegistration', 'kubeletExtraArgs')).to.deep.equal([
      { name: 'node-ip', value: '172.18.0.3' },
    ]);
  });

  it('control-plane join: local endpoint and certificate key; refuses to join without the key or a CA hash', () => {
    const node = { ...join.node, name: 'dev-control-plane2', role: 'control-plane' as const };
    const [j] = kubeadmJoinDocuments({ ...join, node, certificateKey: key });
    expect(j?.controlPlane).to.deep.equal({
      localAPIEndpoint: { advertiseAddress: '172.18.0.3', bindPort: 6443 },
      certificateKey: key,
    });
    expect(() => kubeadmJoinDocuments({ ...join, node })).to.throw(/needs the certificateKey/);
    expect(() => kubeadmJoinDocuments({ ...join, caCertHashes: [] })).to.throw(/caCertHashes is empty/);
    expect(() => kubeadmJoinDocuments({ ...join, bootstrapToken: 'nope' })).to.throw(/bootstrap token/);
  });

  it('no-cgroups nodes get the empty enforce-node-allocatable flag on init and join (kubeadm drops the empty list)', () => {
    const [i] = kubeadmInitDocuments({ ...init, node: { ...init.node, noCgroups: true } });
    expect(at(i, 'nodeRegistration', 'kubeletExtraArgs')).to.deep.include({
      name: 'enforce-node-allocatable',
      value: '',
    });
    const [j] = yamlDocs(
      renderKubeadmConfig(
        kubeadmJoinDocuments({ ...join, node: { ...join.node, noCgroups: true } }),
        [],
        't',
      ),
    );
    // Rendered as an explicit empty string, which kubeadm writes as `--enforce-node-allocatable=`.
    expect(at(j, 'nodeRegistration', 'kubeletExtraArgs')).to.deep.equal([
      { name: 'node-ip', value: '172.18.0.3' },
      { name: 'enforce-node-allocatable', value: '' },
    ]);
    const [plain] = kubeadmJoinDocuments(join);
    expect(JSON.stringify(plain)).to.not.include('enforce-node-allocatable');
  });

  it('applies cluster-level, then node-level patches, to the rendered documents', () => {
    const text = renderKubeadmConfig(
      kubeadmInitDocuments(init),
      [
        { merge: ['kind: KubeletConfiguration\nmaxPods: 150\n'], json6902: [] },
        {
          merge: [
            'kind: KubeletConfiguration\nmaxPods: 160\n',
            'kind: InitConfiguration\nnodeRegistration:\n  kubeletExtraArgs:\n    v: "4"\n',
          ],
          json6902: [],
        },
      ],
      'test',
    );
    const [i, , k] = yamlDocs(text);
    expect(k?.maxPods).to.equal(160);
    expect(at(i, 'nodeRegistration', 'kubeletExtraArgs')).to.deep.include({ name: 'v', value: '4' });
    expect(at(i, 'nodeRegistration', 'kubeletExtraArgs')).to.deep.include({
      name: 'node-ip',
      value: '172.18.0.2',
    });
  });
});

describe('Flannel manifest', () => {
  const docs = yamlDocs(
    flannelManifest({ podSubnet: '10.200.0.0/16', image: 'ghcr.io/flannel-io/flannel:v0.27.4' }),
  );
  const byKind = (kind: string) => docs.find((d) => d.kind === kind);

  it('has the namespace, RBAC, config and DaemonSet', () => {
    expect(docs.map((d) => d.kind)).to.deep.equal([
      'Namespace',
      'ServiceAccount',
      'ClusterRole',
      'ClusterRoleBinding',
      'ConfigMap',
      'DaemonSet',
    ]);
    expect(at(byKind('Namespace'), 'metadata', 'name')).to.equal('kube-flannel');
  });

  it('configures VXLAN on UDP 8472 over the pod subnet, and a conflist with flannel and portmap', () => {
    const data = at(byKind('ConfigMap'), 'data') as Record<string, string>;
    expect(JSON.parse(data['net-conf.json']!)).to.deep.equal({
      Network: '10.200.0.0/16',
      EnableNFTables: false,
      Backend: { Type: 'vxlan', Port: 8472 },
    });
    const cni = JSON.parse(data['cni-conf.json']!) as {
      cniVersion: string;
      plugins: { type: string; subnetFile?: string }[];
    };
    expect(cni.plugins.map((p) => p.type)).to.deep.equal(['flannel', 'portmap']);
    expect(cni.plugins[0]?.subnetFile).to.equal('/var/lib/kur/flannel/subnet.env');
    // STATUS (CNI 1.1.0) keeps the node NotReady until flanneld has a lease.
    expect(cni.cniVersion).to.equal('1.1.0');
  });

  it('runs flanneld on the host network without masquerading or FORWARD rules, from the preloaded image', () => {
    const spec = at(byKind('DaemonSet'), 'spec', 'template', 'spec') as Record<string, unknown>;
    expect(spec.hostNetwork).to.equal(true);
    expect(spec.tolerations).to.deep.equal([{ operator: 'Exists' }]);
    const container = at(spec, 'containers', 0) as Record<string, unknown>;
    expect(container.args).to.include.members([
      '--kube-subnet-mgr',
      '--ip-masq=false',
      '--iptables-forward-rules=false',
    ]);
    expect(container.image).to.equal('ghcr.io/flannel-io/flannel:v0.27.4');
    expect(container.imagePullPolicy).to.equal('Never');
    expect(at(container, 'securityContext', 'capabilities', 'add')).to.deep.equal(['NET_ADMIN', 'NET_RAW']);
    const init = at(spec, 'initContainers', 0) as Record<string, unknown>;
    // kur's flannel image has no shell or cp: flannel's own installer copies the conflist.
    expect(init.command).to.deep.equal([
      '/opt/bin/install-conf',
      '/etc/kube-flannel/cni-conf.json',
      '/etc/cni/net.d/10-flannel.conflist',
    ]);
    expect(init.imagePullPolicy).to.equal('Never');
    const paths = (spec.volumes as { hostPath?: { path: string } }[])
      .map((v) => v.hostPath?.path)
      .filter(Boolean);
    // The lease is kept on the node's volume, where the CNI plugin reads it (it outlives a restart).
    expect(paths).to.deep.equal(['/var/lib/kur/flannel', '/etc/cni/net.d']);
    // Without an endpoint, flanneld uses the kubernetes Service as client-go defaults to.
    expect(JSON.stringify(container.env)).to.not.include('KUBERNETES_SERVICE_HOST');
  });

  it('points flanneld at the API server directly when given the endpoint (no wait for kube-proxy)', () => {
    const manifest = flannelManifest({
      podSubnet: '10.244.0.0/16',
      image: 'f:1',
      apiServerEndpoint: 'dev-external-load-balancer:6443',
    });
    const ds = yamlDocs(manifest).find((d) => d.kind === 'DaemonSet');
    const env = at(ds, 'spec', 'template', 'spec', 'containers', 0, 'env') as {
      name: string;
      value?: string;
    }[];
    expect(env.slice(0, 2)).to.deep.equal([
      { name: 'KUBERNETES_SERVICE_HOST', value: 'dev-external-load-balancer' },
      { name: 'KUBERNETES_SERVICE_PORT', value: '6443' },
    ]);
    expect(() =>
      flannelManifest({ podSubnet: '10.244.0.0/16', image: 'f:1', apiServerEndpoint: 'x' }),
    ).to.throw(/not host:port/);
  });
});

describe('tokens', () => {
  it('makes bootstrap tokens of the right shape from the random source, skipping biased bytes', () => {
    let calls = 0;
    // 255 is above the largest multiple of 36 (252) and must be skipped, not mapped.
    const random = (n: number) => {
      calls++;
      return new Uint8Array(n).fill(calls === 1 ? 255 : 37);
    };
    const token = generateBootstrapToken(random);
    expect(isBootstrapToken(token)).to.equal(true);
    expect(token).to.equal('bbbbbb.bbbbbbbbbbbbbbbb');
    expect(generateCertificateKey((n) => new Uint8Array(n).fill(0xab))).to.equal('ab'.repeat(32));
  });

  it("hashes the CA's public key as kubeadm does (checked against openssl)", () => {
    const dir = new URL('./testdata/', import.meta.url);
    const pem = readFileSync(new URL('ca.crt', dir), 'utf8');
    // ca.crt.sha256 was computed with: openssl x509 -pubkey -noout | openssl pkey -pubin -outform der | sha256sum
    expect(caCertHash(pem)).to.equal(readFileSync(new URL('ca.crt.sha256', dir), 'utf8').trim());
    expect(() => caCertHash('not a certificate')).to.throw(/could not be parsed/);
  });
});
