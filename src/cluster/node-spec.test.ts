import { expect } from 'chai';
import { normalizeClusterConfig } from '../config/load.js';
import { planCluster, type ClusterFacts } from '../kube/plan.js';
import { clientHost } from './clusters.js';
import { parseNodeEnv } from '../node/layout.js';
import { nodeContainerSpec } from './node-spec.js';

const facts: ClusterFacts = {
  rootless: false,
  cgroupVersion: 1,
  cgroupDriver: 'systemd',
  snapshotter: 'overlayfs',
  provider: 'docker',
  kubernetesVersion: 'v1.37.2',
  images: {
    node: 'kur.local/node:v1.37.2',
    pause: 'registry.k8s.io/pause:3.10.1',
    flannel: 'ghcr.io/flannel-io/flannel:v0.28.10',
  },
};

const plan = planCluster(
  normalizeClusterConfig({
    name: 'dev',
    nodes: [
      {
        role: 'control-plane',
        extraMounts: [{ hostPath: '/data', containerPath: '/data', propagation: 'HostToContainer' }],
      },
      { role: 'worker', extraPortMappings: [{ containerPort: 30080, hostPort: 8080 }] },
    ],
  }),
  facts,
);

describe('node container spec', () => {
  it('gives a rootful node the explicit capability fallback, a private cgroupns, tmpfs and a /var volume', () => {
    const spec = nodeContainerSpec(
      plan,
      plan.nodes[0]!,
      {
        provider: 'docker',
        rootless: false,
        privilege: {
          kind: 'explicit-capabilities',
          capabilities: ['CAP_SYS_ADMIN', 'CAP_NET_ADMIN'],
          missing: ['CAP_SYS_RESOURCE'],
          unknownToEngine: [],
          reason: 'unable to apply caps',
        },
      },
      { hasLibModules: false, hasDevFuse: true },
      { runId: 'run1', ipv4: '172.18.0.2' },
    );
    expect(spec.privileged).to.equal(undefined);
    expect(spec.capAdd).to.deep.equal(['CAP_SYS_ADMIN', 'CAP_NET_ADMIN']);
    expect(spec.securityOpt).to.include.members(['seccomp=unconfined', 'apparmor=unconfined']);
    expect(spec.deviceCgroupRules).to.deep.equal(['a *:* rwm']);
    expect(spec.cgroupnsMode).to.equal('private');
    expect(spec.tmpfs).to.have.keys('/run', '/tmp');
    expect(spec.mounts?.[0]).to.include({ type: 'volume', target: '/var' });
    expect(spec.mounts?.find((m) => m.target === '/data')).to.include({ propagation: 'rslave' });
    expect(spec.mounts?.some((m) => m.target === '/lib/modules')).to.equal(false);
    expect(spec.labels).to.deep.equal({
      'dev.kur.cluster': 'dev',
      'dev.kur.role': 'control-plane',
      'dev.kur.node': 'dev-control-plane',
      'dev.kur.run': 'run1',
      'dev.kur.ipv4': '172.18.0.2',
    });
    // The address is static: engines re-assign dynamic ones when they restart.
    expect(spec.network).to.deep.equal({
      name: 'kur',
      aliases: ['dev-control-plane'],
      ipv4Address: '172.18.0.2',
    });
    expect(spec.restartPolicy).to.deep.equal({ name: 'unless-stopped' });
    // A single control plane publishes the API server on loopback, on a port the engine picks.
    expect(spec.ports).to.deep.equal([
      { containerPort: 6443, protocol: 'tcp', hostIp: '127.0.0.1', hostPort: 0 },
    ]);
    expect(spec.stopSignal).to.equal('SIGRTMIN+3');
    expect(spec.pidsLimit).to.equal(-1);
  });

  it('gives a rootless node privileged mode, /dev/fuse and its port mappings', () => {
    const spec = nodeContainerSpec(
      plan,
      plan.nodes[1]!,
      { provider: 'podman', rootless: true, privilege: { kind: 'privileged' } },
      { hasLibModules: true, hasDevFuse: true },
      { runId: 'run1', ipv4: '172.18.0.3' },
    );
    expect(spec.privileged).to.equal(true);
    expect(spec.devices).to.deep.equal([{ hostPath: '/dev/fuse' }]);
    expect(spec.ports).to.deep.equal([
      { containerPort: 30080, protocol: 'tcp', hostIp: '127.0.0.1', hostPort: 8080 },
    ]);
    expect(spec.mounts?.find((m) => m.target === '/lib/modules')).to.include({ readOnly: true });
  });

  it('reads the facts the entrypoint recorded', () => {
    const facts = parseNodeEnv(
      'KUR_USERNS=true\nKUR_CGROUP_VERSION=1\nKUR_CGROUP_WRITABLE=false\nKUR_SNAPSHOTTER=fuse-overlayfs\nKUR_IPTABLES=nft\n',
    );
    expect(facts).to.include({
      userns: true,
      cgroupVersion: 1,
      cgroupWritable: false,
      snapshotter: 'fuse-overlayfs',
    });
  });

  it('points clients at loopback for wildcard listeners', () => {
    expect([
      clientHost('0.0.0.0'),
      clientHost(''),
      clientHost('::'),
      clientHost('10.0.0.5'),
      clientHost('fd00::1'),
    ]).to.deep.equal(['127.0.0.1', '127.0.0.1', '[::1]', '10.0.0.5', '[fd00::1]']);
  });
});
