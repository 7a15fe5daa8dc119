import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { parseEngineFacts } from '../engine/engine-facts.js';
import { runChecks } from './checks.js';
import type { HostState } from './host-state.js';
import type { LocalEngineHost } from './read-engine-host.js';
import type { CheckResult, CheckStatus, PreflightEngine, PreflightRequest } from './result.js';
import { loadFixture, stateOf, type EngineKind, type HostFixture } from './testdata/fixture.js';

const engineKinds: EngineKind[] = ['rootful-docker', 'rootless-docker', 'rootless-podman'];

function payload(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(new URL(`../engine/testdata/${name}`, import.meta.url), 'utf8')) as Record<
    string,
    unknown
  >;
}

/** The engines of the CI host, as the engine layer reads their recorded payloads. */
const recordedFacts: Record<EngineKind, PreflightEngine> = {
  'rootful-docker': parseEngineFacts({
    version: payload('rootful-docker.version.json'),
    info: payload('rootful-docker.info.json'),
  }),
  'rootless-docker': parseEngineFacts({
    version: payload('rootless-docker.version.json'),
    info: payload('rootless-docker.info.json'),
  }),
  'rootless-podman': parseEngineFacts({
    version: payload('rootless-podman.version.json'),
    libpodInfo: payload('rootless-podman.libpod-info.json'),
  }),
};

/** What Docker or Podman would report on a hand-written host: limits follow the delegated controllers. */
function describedFacts(fixture: HostFixture, kind: EngineKind): PreflightEngine {
  const rootless = kind !== 'rootful-docker';
  const v2 = fixture.host.cgroups.mode === 'v2';
  const engine = fixture.engines[kind] as LocalEngineHost;
  const controllers = engine.cgroupV2?.controllers ?? [];
  const has = (c: string): boolean => !rootless || (v2 && controllers.includes(c));
  return {
    provider: kind === 'rootless-podman' ? 'podman' : 'docker',
    rootless,
    cgroupVersion: v2 ? 2 : 1,
    cgroupDriver: v2 ? 'systemd' : rootless ? 'none' : 'cgroupfs',
    limits: { memory: has('memory'), pids: has('pids'), cpu: has('cpu') },
    kernel: fixture.host.kernelRelease,
  };
}

const request: PreflightRequest = {
  hostPorts: [{ address: '127.0.0.1', port: 6443, protocol: 'tcp' }],
  nodeCount: 3,
  rootlessWithoutCgroups: 'unsupported',
};

function statuses(results: CheckResult[]): Record<string, CheckStatus> {
  return Object.fromEntries(results.map((r) => [r.id, r.status]));
}

function byId(results: CheckResult[], id: string): CheckResult {
  const result = results.find((r) => r.id === id);
  if (result === undefined) throw new Error(`no check ${id}`);
  return result;
}

const allIds = [
  'cgroup-version',
  'rootless-cgroups',
  'systemd-cgroup-v1',
  'linger',
  'subid-ranges',
  'dev-net-tun',
  'dev-fuse',
  'kernel-version',
  'kernel-vxlan',
  'kernel-bridge-netfilter',
  'kernel-netfilter',
  'unprivileged-ports',
  'inotify-watches',
  'inotify-instances',
  'nofile',
];

const rootfulSkips = {
  'rootless-cgroups': 'skip',
  'systemd-cgroup-v1': 'skip',
  linger: 'skip',
  'subid-ranges': 'skip',
  'dev-net-tun': 'skip',
  'dev-fuse': 'skip',
  'unprivileged-ports': 'skip',
} as const;

/** A clean host: every check that applies passes (rootful engines skip the rootless checks). */
const rootfulOk: Record<string, CheckStatus> = {
  ...Object.fromEntries(allIds.map((id) => [id, 'ok'])),
  ...rootfulSkips,
};
const rootlessOk: Record<string, CheckStatus> = {
  ...Object.fromEntries(allIds.map((id) => [id, 'ok'])),
  'systemd-cgroup-v1': 'skip',
};
const lowInotify = { 'inotify-watches': 'warn', 'inotify-instances': 'warn' } as const;

/** Expected statuses per fixture, as differences from a clean host; both rootless engines judge alike. */
const table: {
  fixture: string;
  facts: 'recorded' | 'described';
  rootful: Record<string, CheckStatus>;
  rootless: Record<string, CheckStatus>;
}[] = [
  {
    fixture: 'debian12-cgroupv1-hybrid.json',
    facts: 'recorded',
    rootful: { ...rootfulOk, ...lowInotify },
    // No systemd here: nothing to linger with.
    rootless: { ...rootlessOk, ...lowInotify, 'rootless-cgroups': 'fail', linger: 'skip' },
  },
  {
    fixture: 'ubuntu2404-cgroupv2-delegated.json',
    facts: 'described',
    rootful: rootfulOk,
    rootless: rootlessOk,
  },
  {
    fixture: 'ubuntu2204-cgroupv2-memory-pids.json',
    facts: 'described',
    rootful: { ...rootfulOk, ...lowInotify, 'kernel-bridge-netfilter': 'warn' },
    rootless: {
      ...rootlessOk,
      ...lowInotify,
      'rootless-cgroups': 'fail',
      linger: 'warn',
      'kernel-vxlan': 'warn',
      'kernel-bridge-netfilter': 'fail',
    },
  },
  {
    fixture: 'ubuntu2004-kernel54-hybrid.json',
    facts: 'described',
    rootful: { ...rootfulOk, ...lowInotify, 'kernel-bridge-netfilter': 'warn' },
    rootless: {
      ...rootlessOk,
      ...lowInotify,
      'rootless-cgroups': 'fail',
      'kernel-version': 'warn',
      'kernel-vxlan': 'warn',
      'kernel-bridge-netfilter': 'fail',
      'kernel-netfilter': 'warn',
    },
  },
];

function factsFor(fixture: HostFixture, kind: EngineKind, source: 'recorded' | 'described'): PreflightEngine {
  return source === 'recorded' ? recordedFacts[kind] : describedFacts(fixture, kind);
}

/** One check's result for a fixture's engine, with the engine's recorded or described facts. */
function resultOn(
  fixture: HostFixture,
  kind: EngineKind,
  id: string,
  req: PreflightRequest = request,
  facts: 'recorded' | 'described' = 'described',
): CheckResult {
  return byId(runChecks(stateOf(fixture, kind), factsFor(fixture, kind, facts), req), id);
}

describe('preflight checks over recorded and described hosts', () => {
  for (const row of table) {
    const fixture = loadFixture(row.fixture);
    for (const kind of engineKinds) {
      it(`${row.fixture} x ${kind}`, () => {
        const results = runChecks(stateOf(fixture, kind), factsFor(fixture, kind, row.facts), request);
        expect(results.map((r) => r.id)).to.deep.equal(allIds);
        const wanted = kind === 'rootful-docker' ? row.rootful : row.rootless;
        const expected = Object.fromEntries(allIds.map((id) => [id, wanted[id]]));
        expect(statuses(results)).to.deep.equal(expected);
        for (const r of results) {
          expect(r.looked, `${r.id} says what it looked at`).to.not.equal('');
          if (r.status === 'warn' || r.status === 'fail')
            expect(r.fix, `${r.id} has a fix`).to.be.a('string').and.not.equal('');
        }
      });
    }
  }

  it("the user's view of the CI host judges as root's does", () => {
    const root = loadFixture('debian12-cgroupv1-hybrid.json');
    const user = loadFixture('debian12-cgroupv1-hybrid.as-kur-test.json');
    for (const kind of ['rootless-docker', 'rootless-podman'] as const) {
      const asRoot = runChecks(stateOf(root, kind), recordedFacts[kind], request);
      const asUser = runChecks(stateOf(user, kind), recordedFacts[kind], request);
      expect(asUser).to.deep.equal(asRoot);
    }
  });
});

describe('the rootless cgroup verdict', () => {
  const debian = loadFixture('debian12-cgroupv1-hybrid.json');
  const jammy = loadFixture('ubuntu2204-cgroupv2-memory-pids.json');
  const noble = loadFixture('ubuntu2404-cgroupv2-delegated.json');
  const degraded: PreflightRequest = { ...request, rootlessWithoutCgroups: 'supported-degraded' };

  it('fails on cgroup v1 with the reason and a cgroup v2 boot plus delegation fix', () => {
    const result = resultOn(debian, 'rootless-podman', 'rootless-cgroups', request, 'recorded');
    expect(result.status).to.equal('fail');
    expect(result.message).to.contain('cgroup v1 (hybrid layout)');
    expect(result.looked).to.contain('/proc/self/mounts: cgroup hybrid');
    // This host has no systemd: the fix boots v2 without it and delegates by hand.
    expect(result.fix)
      .to.contain('cgroup_no_v1=all')
      .and.contain('cgroup.subtree_control')
      .and.contain('kur-test');
  });

  it('gives the systemd fix on a systemd host: kernel command line, Delegate= drop-in, daemon-reload', () => {
    const focal = loadFixture('ubuntu2004-kernel54-hybrid.json');
    const result = resultOn(focal, 'rootless-docker', 'rootless-cgroups');
    expect(result.fix).to.contain('systemd.unified_cgroup_hierarchy=1');
    expect(result.fix).to.contain('/etc/systemd/system/user@.service.d/delegate.conf');
    expect(result.fix).to.contain('Delegate=cpu cpuset io memory pids');
    expect(result.fix).to.contain('systemctl daemon-reload');
  });

  it('names the controllers missing from a cgroup v2 delegation', () => {
    const result = resultOn(jammy, 'rootless-docker', 'rootless-cgroups');
    expect(result.status).to.equal('fail');
    expect(result.message).to.contain('cgroup v2 without delegated cpu');
    expect(result.looked).to.contain('cgroup.controllers = "memory pids"');
    expect(result.fix)
      .to.contain('Delegate=cpu cpuset io memory pids')
      .and.contain('systemctl --user restart docker');
  });

  it('warns of degraded mode instead when the policy supports it, and then checks the name=systemd delegation', () => {
    const results = runChecks(stateOf(debian, 'rootless-docker'), recordedFacts['rootless-docker'], degraded);
    const verdict = byId(results, 'rootless-cgroups');
    expect(verdict.status).to.equal('warn');
    expect(verdict.message)
      .to.match(/^degraded mode: cgroup v1/)
      .and.contain('without resource limits');
    expect(byId(results, 'systemd-cgroup-v1').status).to.equal('ok');

    const state = stateOf(debian, 'rootless-docker');
    (state.engine as LocalEngineHost).systemdCgroupV1!.ownerUid = 0;
    const notDelegated = byId(
      runChecks(state, recordedFacts['rootless-docker'], degraded),
      'systemd-cgroup-v1',
    );
    expect(notDelegated.status).to.equal('fail');
    expect(notDelegated.message).to.contain('Failed to create /init.scope control group');
    expect(notDelegated.fix).to.contain('/sys/fs/cgroup/systemd/kur-test.slice');
  });

  it('fails when the delegated cgroup is not owned by the engine user', () => {
    const state = stateOf(noble, 'rootless-podman');
    (state.engine as LocalEngineHost).cgroupV2!.ownerUid = 0;
    const result = byId(
      runChecks(state, describedFacts(noble, 'rootless-podman'), request),
      'rootless-cgroups',
    );
    expect(result.status).to.equal('fail');
    expect(result.message).to.contain('belongs to uid 0');
    expect(result.fix).to.contain('podman.socket');
  });

  it('fails when the engine runs without a cgroup manager on a delegated v2 tree', () => {
    const facts = { ...describedFacts(noble, 'rootless-docker'), cgroupDriver: 'none' };
    const result = byId(runChecks(stateOf(noble, 'rootless-docker'), facts, request), 'rootless-cgroups');
    expect(result.status).to.equal('fail');
    expect(result.message).to.contain('driver "none"');
  });

  it('warns when cpuset and io are not delegated', () => {
    const state = stateOf(noble, 'rootless-docker');
    (state.engine as LocalEngineHost).cgroupV2!.controllers = ['cpu', 'memory', 'pids'];
    const result = byId(
      runChecks(state, describedFacts(noble, 'rootless-docker'), request),
      'rootless-cgroups',
    );
    expect(result.status).to.equal('warn');
    expect(result.message).to.contain('cpuset and io not');
  });

  it("uses the engine's own report when its cgroup is not found on this host", () => {
    const state = stateOf(noble, 'rootless-docker');
    delete (state.engine as LocalEngineHost).cgroupV2;
    const facts = {
      ...describedFacts(noble, 'rootless-docker'),
      limits: { memory: true, pids: true, cpu: false },
    };
    const result = byId(runChecks(state, facts, request), 'rootless-cgroups');
    expect(result.status).to.equal('fail');
    expect(result.looked).to.match(/^engine reports cgroup v2/);
    expect(result.message).to.contain('cannot limit cpu');
  });

  it('decides in under 5 ms per run (pure: no I/O)', () => {
    const state = stateOf(debian, 'rootless-docker');
    const started = process.hrtime.bigint();
    for (let i = 0; i < 100; i += 1) runChecks(state, recordedFacts['rootless-docker'], request);
    const perRunMs = Number(process.hrtime.bigint() - started) / 1e6 / 100;
    expect(perRunMs).to.be.below(5);
  });
});

describe('host checks', () => {
  const noble = loadFixture('ubuntu2404-cgroupv2-delegated.json');
  const focal = loadFixture('ubuntu2004-kernel54-hybrid.json');
  const run = (
    state: HostState,
    kind: EngineKind,
    fixture: HostFixture,
    req: Partial<PreflightRequest> = {},
  ) => runChecks(state, describedFacts(fixture, kind), { ...request, ...req });

  it('skips host checks for a remote engine, but judges cgroups and the kernel from its report', () => {
    const state: HostState = {
      ...stateOf(noble, 'rootless-docker'),
      engine: { local: false, address: 'tcp://10.0.0.5:2376' },
    };
    const facts: PreflightEngine = {
      ...describedFacts(noble, 'rootless-docker'),
      cgroupVersion: 1,
      kernel: '5.4.0-1-generic',
    };
    const results = runChecks(state, facts, request);
    for (const id of [
      'dev-fuse',
      'dev-net-tun',
      'subid-ranges',
      'unprivileged-ports',
      'inotify-watches',
      'nofile',
      'kernel-vxlan',
    ]) {
      expect(byId(results, id).status, id).to.equal('skip');
      expect(byId(results, id).message, id).to.equal('not checked: remote engine (tcp://10.0.0.5:2376)');
    }
    expect(byId(results, 'rootless-cgroups').status).to.equal('fail');
    expect(byId(results, 'rootless-cgroups').message).to.contain('the engine reports cgroup v1');
    expect(byId(results, 'kernel-version').status).to.equal('warn');
  });

  it('skips host checks when a local socket leads to another kernel (a VM)', () => {
    const facts = { ...describedFacts(noble, 'rootless-docker'), kernel: '6.10.14-linuxkit' };
    const result = byId(runChecks(stateOf(noble, 'rootless-docker'), facts, request), 'inotify-watches');
    expect(result.status).to.equal('skip');
    expect(result.message).to.contain('kernel 6.10.14-linuxkit');
  });

  it('fails a host port below ip_unprivileged_port_start on a rootless engine, naming the sysctl', () => {
    const ports = [
      { address: '0.0.0.0', port: 80, protocol: 'tcp' as const },
      { address: '0.0.0.0', port: 443, protocol: 'tcp' as const },
      { address: '127.0.0.1', port: 8080, protocol: 'tcp' as const },
    ];
    const result = byId(
      run(stateOf(noble, 'rootless-podman'), 'rootless-podman', noble, { hostPorts: ports }),
      'unprivileged-ports',
    );
    expect(result.status).to.equal('fail');
    expect(result.message).to.contain('80/tcp, 443/tcp are below net.ipv4.ip_unprivileged_port_start=1024');
    expect(result.fix).to.contain('sudo sysctl net.ipv4.ip_unprivileged_port_start=80');
    expect(result.fix).to.contain('/etc/sysctl.d/');
    const rootful = byId(
      run(stateOf(noble, 'rootful-docker'), 'rootful-docker', noble, { hostPorts: ports }),
      'unprivileged-ports',
    );
    expect(rootful.status).to.equal('skip');
  });

  it('checks /dev/net/tun presence and permissions', () => {
    const missing = stateOf(noble, 'rootless-docker');
    missing.devices.tun = undefined;
    expect(byId(run(missing, 'rootless-docker', noble), 'dev-net-tun')).to.include({ status: 'fail' });
    const closed = stateOf(noble, 'rootless-docker');
    closed.devices.tun = { kind: 'char', mode: 0o600, uid: 0, gid: 0 };
    const result = byId(run(closed, 'rootless-docker', noble), 'dev-net-tun');
    expect(result.status).to.equal('fail');
    expect(result.looked).to.contain('mode 0600');
    expect(result.fix).to.contain('sudo chmod 666 /dev/net/tun');
  });

  it('fails without /dev/fuse below kernel 5.11 and warns above', () => {
    const old = stateOf(focal, 'rootless-docker');
    old.devices.fuse = undefined;
    const oldResult = byId(run(old, 'rootless-docker', focal), 'dev-fuse');
    expect(oldResult.status).to.equal('fail');
    expect(oldResult.message).to.contain('< 5.11');
    expect(oldResult.fix).to.contain('modprobe -a fuse');
    const recent = stateOf(noble, 'rootless-docker');
    recent.devices.fuse = undefined;
    expect(byId(run(recent, 'rootless-docker', noble), 'dev-fuse').status).to.equal('warn');
  });

  it('fails short subordinate id ranges and warns when they cannot be read', () => {
    const short = stateOf(noble, 'rootless-podman');
    (short.engine as LocalEngineHost).subuid = [{ start: 100000, count: 1000 }];
    const result = byId(run(short, 'rootless-podman', noble), 'subid-ranges');
    expect(result.status).to.equal('fail');
    expect(result.message).to.contain('1000 subuids');
    expect(result.fix).to.contain('usermod --add-subuids 100000-165535 --add-subgids 100000-165535 ubuntu');
    expect(result.fix).to.contain('podman system migrate');
    const unreadable = stateOf(noble, 'rootless-podman');
    (unreadable.engine as LocalEngineHost).subgid = undefined;
    expect(byId(run(unreadable, 'rootless-podman', noble), 'subid-ranges').status).to.equal('warn');
  });

  it("recommends kind's inotify limits with the sysctl fix", () => {
    const result = byId(run(stateOf(focal, 'rootful-docker'), 'rootful-docker', focal), 'inotify-watches');
    expect(result.looked).to.equal('/proc/sys/fs/inotify/max_user_watches = 8192');
    expect(result.fix).to.contain('sudo sysctl fs.inotify.max_user_watches=524288');
    expect(result.fix).to.contain('/etc/sysctl.d/99-kur-inotify-watches.conf');
  });

  it('warns when the hard open files limit is low for the number of nodes', () => {
    const state = stateOf(noble, 'rootless-docker');
    (state.engine as LocalEngineHost).nofile = { soft: 20000, hard: 20000 };
    expect(byId(run(state, 'rootless-docker', noble, { nodeCount: 3 }), 'nofile').status).to.equal('ok');
    const many = byId(run(state, 'rootless-docker', noble, { nodeCount: 6 }), 'nofile');
    expect(many.status).to.equal('warn');
    expect(many.message).to.contain('below 24576 for 6 node(s)');
    (state.engine as LocalEngineHost).nofile = { soft: 1024, hard: 'unlimited' };
    expect(byId(run(state, 'rootless-docker', noble, { nodeCount: 50 }), 'nofile').status).to.equal('ok');
    delete (state.engine as LocalEngineHost).nofile;
    expect(byId(run(state, 'rootless-docker', noble), 'nofile').looked).to.contain('/proc/self/limits (kur');
  });

  it('fails a kernel without VXLAN, and skips VXLAN when kur deploys no CNI', () => {
    const state = stateOf(noble, 'rootful-docker');
    state.kernel.options.CONFIG_VXLAN = 'missing';
    const result = byId(run(state, 'rootful-docker', noble), 'kernel-vxlan');
    expect(result.status).to.equal('fail');
    expect(result.message).to.contain('CONFIG_VXLAN');
    expect(byId(run(state, 'rootful-docker', noble, { defaultCni: false }), 'kernel-vxlan').status).to.equal(
      'skip',
    );
  });

  it('takes whichever iptables backend the kernel has whole, and adds nft needs in nftables mode', () => {
    const legacyOnly = stateOf(noble, 'rootful-docker');
    legacyOnly.kernel.options.CONFIG_NFT_COMPAT = 'missing';
    const legacy = byId(run(legacyOnly, 'rootful-docker', noble), 'kernel-netfilter');
    expect(legacy.status).to.equal('ok');
    expect(legacy.looked).to.contain('IP_NF_IPTABLES');
    const nftProxy = byId(
      run(legacyOnly, 'rootful-docker', noble, { kubeProxyMode: 'nftables' }),
      'kernel-netfilter',
    );
    expect(nftProxy.looked).to.contain('NFT_CT');
    const neither = stateOf(noble, 'rootful-docker');
    neither.kernel.options.CONFIG_NFT_COMPAT = 'missing';
    neither.kernel.options.CONFIG_IP_NF_NAT = 'missing';
    expect(byId(run(neither, 'rootful-docker', noble), 'kernel-netfilter').status).to.equal('fail');
  });

  it('warns when the kernel options cannot be read', () => {
    const state = stateOf(noble, 'rootless-docker');
    state.kernel = {
      source: 'none',
      options: Object.fromEntries(
        Object.keys(state.kernel.options).map((o) => [o, 'unknown']),
      ) as HostState['kernel']['options'],
    };
    expect(byId(run(state, 'rootless-docker', noble), 'kernel-vxlan').status).to.equal('warn');
  });

  it('fails a rootless engine without br_netfilter and warns a rootful one', () => {
    const state = stateOf(noble, 'rootless-docker');
    state.bridgeNetfilter = false;
    state.kernel.options.CONFIG_BRIDGE_NETFILTER = 'module';
    const rootless = byId(run(state, 'rootless-docker', noble), 'kernel-bridge-netfilter');
    expect(rootless.status).to.equal('fail');
    expect(rootless.fix).to.contain('sudo modprobe -a br_netfilter').and.contain('/etc/modules-load.d/');
    expect(byId(run(state, 'rootful-docker', noble), 'kernel-bridge-netfilter').status).to.equal('warn');
  });
});
