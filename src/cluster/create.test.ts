import { expect } from 'chai';
import { normalizeClusterConfig } from '../config/load.js';
import type { EngineInfo } from '../engine/detect.js';
import { labels } from '../engine/labels.js';
import { FakeEngine } from '../engine/testing/fake-engine.js';
import { nodeImageLabels } from '../nodeimage/image-labels.js';
import { KurError, isKurError } from '../util/errors.js';
import { silentLogger } from '../util/logger.js';
import { claimName, completeMarkerPath } from './claim.js';
import { createCluster, createPhaseIds, createPhases, type CreateClusterOptions } from './create.js';
import { preflightPhase } from './create/preflight.js';
import { clusterNodes, listClusters } from './clusters.js';
import { deleteCluster } from './delete.js';
import { startCluster, stopCluster } from './lifecycle.js';
import { listServiceLoadBalancers } from './load-balancers.js';
import { loadBalancerSpec, type LoadBalancerRecord } from './service-load-balancer.js';
import { clusterState } from './state.js';

const image = 'kur.local/node:test';

const engineInfo: EngineInfo = {
  provider: 'docker',
  version: '20.10',
  apiVersion: '1.41',
  minApiVersion: '1.12',
  arch: 'amd64',
  os: 'Debian',
  osType: 'linux',
  kernel: '6.18',
  hostname: 'unit',
  rootless: true,
  cgroupVersion: 1,
  cgroupDriver: 'none',
  limits: { memory: false, pids: false, cpu: false },
  storageDriver: 'overlay2',
  defaultRuntime: 'runc',
  securityOptions: [],
  cpus: 2,
  memoryBytes: 1,
  warnings: [],
  bridgeMtu: undefined,
  privilege: { kind: 'privileged' },
  detectMs: 1,
  cached: false,
};

// The host and engine probes touch the real machine: unit tests give their answer directly.
const phases = createPhases.replacing(preflightPhase, {
  ...preflightPhase,
  run: () => Promise.resolve({ info: engineInfo }),
});

const adminConf = `apiVersion: v1
kind: Config
clusters:
- name: k
  cluster: {server: 'https://x:6443', certificate-authority-data: Q0E=}
users:
- name: u
  user: {client-certificate-data: Q0VSVA==, client-key-data: S0VZ}
contexts:
- name: c
  context: {cluster: k, user: u}
current-context: c
`;

function fakeEngine(
  exec?: (cmd: string[]) => { exitCode: number; stdout: string; stderr: string } | undefined,
) {
  return new FakeEngine({
    images: {
      [image]: {
        labels: {
          [nodeImageLabels.nodeImage]: 'true',
          [nodeImageLabels.kubernetesVersion]: 'v1.37.2',
          [nodeImageLabels.pauseImage]: 'kur.local/pause:1',
          [nodeImageLabels.flannelImage]: 'kur.local/flannel:1',
        },
      },
    },
    imageFiles: {
      '/etc/kur/node.env': 'KUR_CGROUP_WRITABLE=true\nKUR_CGROUP_VERSION=1\n',
      '/etc/kubernetes/admin.conf': adminConf,
      // An image without add-on images: create warns and leaves them out.
      '/etc/kur/manifest.json': '{"preloadedImages": []}',
    },
    exec: (_c, options) =>
      exec?.(options.cmd) ??
      (options.cmd[0] === 'systemctl' && options.cmd[1] === 'is-system-running'
        ? { exitCode: 0, stdout: 'running\n', stderr: '' }
        : { exitCode: 0, stdout: '', stderr: '' }),
  });
}

function options(
  engine: FakeEngine,
  name: string,
  extra: Partial<CreateClusterOptions> = {},
): CreateClusterOptions {
  return {
    config: normalizeClusterConfig({}, { name }),
    engine,
    logger: silentLogger,
    image,
    ensureImage: () => Promise.resolve(),
    waitMs: 0,
    retain: false,
    kubeconfigPath: undefined,
    renderer: 'silent',
    host: { hasLibModules: false, hasDevFuse: false },
    phases,
    ...extra,
  };
}

async function failure(work: Promise<unknown>): Promise<KurError> {
  try {
    await work;
  } catch (error) {
    if (isKurError(error)) return error;
    throw error;
  }
  throw new Error('expected a failure');
}

describe('create (fake engine)', function () {
  this.timeout(10_000);

  it('lists its phases by id, in order', () => {
    expect(createPhaseIds).to.deep.equal([
      'preflight',
      'node-image',
      'claim',
      'nodes',
      'configure',
      'control-plane',
      'network-and-joins',
      'wait',
      'kubeconfig',
      'complete',
    ]);
  });

  it('claims the name, a static address and a host port, then marks the cluster complete', async () => {
    const engine = fakeEngine();
    const created = await createCluster(options(engine, 'one'));
    expect(engine.names()).to.deep.equal(['one-control-plane', claimName('one')]);
    const claim = engine.find(claimName('one'));
    const node = engine.find('one-control-plane');
    expect(claim.state).to.equal('created'); // never started
    const address = node.spec.network?.ipv4Address;
    expect(address).to.match(/^\d+\.\d+\.0\.2$/);
    expect(claim.spec.labels?.[labels.addresses]).to.equal(`one-control-plane=${address}`);
    const port = Number(claim.spec.labels?.[labels.apiPort]);
    expect(port).to.be.above(0);
    expect(node.spec.ports?.find((p) => p.containerPort === 6443)?.hostPort).to.equal(port);
    expect(node.spec.labels?.[labels.run]).to.equal(claim.spec.labels?.[labels.run]);
    expect(created.server).to.equal(`https://127.0.0.1:${port}`);
    expect(created.nodes).to.deep.equal([
      { name: 'one-control-plane', role: 'control-plane', ipv4: address },
    ]);
    expect(claim.files.has(completeMarkerPath)).to.equal(true);
    expect(created.timings.filter((t) => t.ids.length === 1).map((t) => t.ids[0])).to.deep.equal(
      createPhaseIds.filter((id) => id !== 'wait'),
    );
  });

  it('gives clusters created at the same time different addresses and ports', async () => {
    const engine = fakeEngine();
    const results = await Promise.all(['a', 'b', 'c'].map((n) => createCluster(options(engine, n))));
    const ips = results.map((r) => r.nodes[0]!.ipv4);
    expect(new Set(ips).size).to.equal(3);
    expect(new Set(results.map((r) => r.server)).size).to.equal(3);
    expect(engine.names({ [labels.role]: 'control-plane' })).to.have.length(3);
  });

  it('of two creates of one name, exactly one proceeds; the other creates and removes nothing', async () => {
    const engine = fakeEngine();
    const outcomes = await Promise.allSettled([
      createCluster(options(engine, 'same')),
      createCluster(options(engine, 'same')),
    ]);
    const failed = outcomes.filter((o) => o.status === 'rejected');
    expect(failed).to.have.length(1);
    const error = (failed[0] as PromiseRejectedResult).reason as KurError;
    expect(error.kind).to.equal('conflict');
    expect(error.exitCode).to.equal(7);
    expect(engine.names()).to.deep.equal(['same-control-plane', claimName('same')]);
    expect(engine.calls.filter((c) => c.startsWith('remove same'))).to.deep.equal([]);
  });

  it('rolls back in reverse order on a failure, naming the phase', async () => {
    const engine = fakeEngine((cmd) =>
      cmd[0] === 'kubeadm' ? { exitCode: 1, stdout: '', stderr: 'etcd did not start' } : undefined,
    );
    const error = await failure(createCluster(options(engine, 'broken')));
    expect(error.message).to.match(/at "Start the control plane"/);
    expect(engine.names()).to.deep.equal([]);
    expect(engine.networksByName.size).to.equal(0);
    const removals = engine.calls.filter((c) => /^(remove|network remove) (broken|kur$)/.test(c));
    expect(removals.slice(0, 3)).to.deep.equal([
      'remove broken-control-plane',
      `remove ${claimName('broken')}`,
      'network remove kur',
    ]);
  });

  it('keeps what it made with retain, and the cluster reads as incomplete', async () => {
    const engine = fakeEngine((cmd) =>
      cmd[0] === 'kubeadm' ? { exitCode: 1, stdout: '', stderr: 'no' } : undefined,
    );
    await failure(createCluster(options(engine, 'kept', { retain: true })));
    expect(engine.names()).to.deep.equal(['kept-control-plane', claimName('kept')]);
    expect(engine.find(claimName('kept')).files.has(completeMarkerPath)).to.equal(false);
    expect(clusterState({ complete: false, containerStates: ['running'], apiAnswers: true })).to.equal(
      'incomplete',
    );
  });

  for (const phase of createPhaseIds.filter((id) => id !== 'wait')) {
    it(`an abort when "${phase}" starts leaves nothing behind`, async () => {
      const engine = fakeEngine();
      const controller = new AbortController();
      const error = await failure(
        createCluster(
          options(engine, 'abort', {
            signal: controller.signal,
            onEvent: (e) =>
              e.type === 'start' && e.ids.length === 1 && e.ids[0] === phase && controller.abort(),
          }),
        ),
      );
      expect(error.kind).to.equal('cancelled');
      expect(engine.names()).to.deep.equal([]);
      expect(engine.networksByName.size).to.equal(0);
    });
  }

  it('rollback removes only its own run: another cluster on the engine is untouched', async () => {
    const engine = fakeEngine();
    await createCluster(options(engine, 'keep'));
    const failing = fakeEngineFailingFor(engine, 'doomed');
    await failure(createCluster(options(failing, 'doomed')));
    expect(engine.names()).to.deep.equal(['keep-control-plane', claimName('keep')]);
    await deleteCluster({ engine, logger: silentLogger, name: 'keep', kubeconfigPath: undefined });
    expect(engine.names()).to.deep.equal([]);
    expect(engine.networksByName.size).to.equal(0);
  });

  it('a Service load balancer goes with its cluster: not a node, yet stopped, started and deleted with it', async () => {
    const engine = fakeEngine();
    await createCluster(options(engine, 'svc'));
    const record: LoadBalancerRecord = {
      service: { namespace: 'default', name: 'web', uid: 'u1' },
      ports: [{ port: 8080, protocol: 'TCP', nodePort: 30080, hostPort: 8080 }],
      backends: ['172.18.0.2'],
    };
    const lb = await engine.containers.create(loadBalancerSpec('svc', image, record));
    await engine.containers.start(lb);
    expect((await clusterNodes(engine, 'svc')).map((n) => n.name)).to.deep.equal(['svc-control-plane']);
    const [summary] = await listClusters(engine);
    expect(summary?.nodes.map((n) => n.name)).to.deep.equal(['svc-control-plane']);
    expect(
      (await listServiceLoadBalancers(engine, 'svc')).map((s) => [s.name, s.state, s.ports[0]?.address]),
    ).to.deep.equal([['web', 'running', '127.0.0.1:8080']]);
    const stopped = await stopCluster({ engine, logger: silentLogger, name: 'svc' });
    expect(stopped.containers).to.include('svc-lb.default.web');
    expect(engine.find(lb).state).to.equal('exited');
    const started = await startCluster({
      engine,
      logger: silentLogger,
      name: 'svc',
      waitMs: 0,
      renderer: 'silent',
    });
    expect(started.nodes.map((n) => n.name)).to.deep.equal(['svc-control-plane']);
    expect(engine.find(lb).state).to.equal('running');
    const deleted = await deleteCluster({
      engine,
      logger: silentLogger,
      name: 'svc',
      kubeconfigPath: undefined,
    });
    expect(deleted.containers).to.include('svc-lb.default.web');
    expect(engine.names()).to.deep.equal([]);
  });
});

/** The same engine, with kubeadm failing on the named cluster's nodes. */
function fakeEngineFailingFor(engine: FakeEngine, cluster: string): FakeEngine {
  const original = engine.containers.exec.bind(engine.containers);
  engine.containers.exec = (id, o) =>
    engine.find(id).spec.labels?.[labels.cluster] === cluster && o.cmd[0] === 'kubeadm'
      ? Promise.reject(new KurError('command', 'kubeadm init failed'))
      : original(id, o);
  return engine;
}
