import { expect } from 'chai';
import { gzipSync } from 'node:zlib';
import type { FileInfo, PreflightFs } from './fs.js';
import { engineUidFromLibpodInfo, readHostState, type HostState } from './host-state.js';
import type { LocalEngineHost } from './read-engine-host.js';

type Entry = Partial<FileInfo> & { content?: string | Buffer; link?: string };

/** A host described as path -> entry; directories are implied by the paths below them. */
class FakeFs implements PreflightFs {
  readonly reads: string[] = [];
  constructor(private readonly entries: Record<string, Entry>) {}

  readFile(path: string): Promise<Buffer | undefined> {
    this.reads.push(path);
    const content = this.entries[path]?.content;
    return Promise.resolve(content === undefined ? undefined : Buffer.from(content));
  }

  stat(path: string): Promise<FileInfo | undefined> {
    const entry = this.entries[path];
    const isDir = Object.keys(this.entries).some((p) => p.startsWith(`${path}/`));
    if (entry === undefined && !isDir) return Promise.resolve(undefined);
    return Promise.resolve({
      kind: entry?.kind ?? (isDir ? 'directory' : 'file'),
      mode: entry?.mode ?? 0o644,
      uid: entry?.uid ?? 0,
      gid: entry?.gid ?? 0,
    });
  }

  readdir(path: string): Promise<string[] | undefined> {
    const names = Object.keys(this.entries)
      .filter((p) => p.startsWith(`${path}/`))
      .map((p) => p.slice(path.length + 1).split('/')[0]!);
    return Promise.resolve(names.length === 0 ? undefined : [...new Set(names)]);
  }

  readlink(path: string): Promise<string | undefined> {
    return Promise.resolve(this.entries[path]?.link);
  }
}

const limits = (soft: number, hard: number): string =>
  `Limit                     Soft Limit           Hard Limit           Units\nMax open files            ${soft}                 ${hard}               files\n`;

const userManager = '/user.slice/user-1000.slice/user@1000.service';

/** An Ubuntu-like cgroup v2 systemd host with rootless Docker (pid file) and rootless Podman (socket activation). */
function ubuntuHost(): Record<string, Entry> {
  return {
    '/proc/self/mounts': {
      content: 'cgroup2 /sys/fs/cgroup cgroup2 rw,nosuid,nodev,noexec,relatime,nsdelegate 0 0\n',
    },
    '/proc/self/cgroup': { content: `0::${userManager}/app.slice/kur.scope\n` },
    '/proc/self/limits': { content: limits(1024, 524288) },
    '/proc/sys/net/ipv4/ip_unprivileged_port_start': { content: '1024\n' },
    '/proc/sys/fs/inotify/max_user_watches': { content: '8192\n' },
    '/proc/sys/fs/inotify/max_user_instances': { content: '128\n' },
    '/proc/sys/net/bridge/bridge-nf-call-iptables': { content: '1\n' },
    '/dev/fuse': { kind: 'char', mode: 0o666 },
    '/dev/net/tun': { kind: 'char', mode: 0o660, gid: 108 },
    '/run/systemd/system/.keep': {},
    '/proc/config.gz': {
      content: gzipSync(
        'CONFIG_VXLAN=m\nCONFIG_BRIDGE_NETFILTER=m\nCONFIG_NF_TABLES=y\n# CONFIG_IP_NF_IPTABLES is not set\n',
      ),
    },
    '/proc/modules': { content: 'vxlan 77824 0 - Live 0x0000000000000000\n' },
    '/etc/passwd': {
      content: 'root:x:0:0:root:/root:/bin/bash\nubuntu:x:1000:1000::/home/ubuntu:/bin/bash\n',
    },
    '/etc/subuid': { content: 'ubuntu:100000:65536\n' },
    '/etc/subgid': { content: '1000:100000:65536\n' },
    '/var/lib/systemd/linger/ubuntu': {},
    // Rootless Docker: pid file next to its socket.
    '/run/user/1000/docker.sock': { kind: 'socket', uid: 1000 },
    '/run/user/1000/docker.pid': { content: '2301\n', uid: 1000 },
    '/proc/2301/cgroup': { content: `0::${userManager}/app.slice/docker.service\n`, uid: 1000 },
    '/proc/2301/limits': { content: limits(524288, 524288), uid: 1000 },
    [`/sys/fs/cgroup${userManager}/app.slice/docker.service/cgroup.controllers`]: {
      content: 'cpuset cpu io memory pids\n',
    },
    [`/sys/fs/cgroup${userManager}/app.slice/docker.service/cgroup.subtree_control`]: { content: '\n' },
    [`/sys/fs/cgroup${userManager}/app.slice/docker.service`]: { kind: 'directory', uid: 1000 },
    // Rootless Podman: socket-activated; systemd --user and podman both hold the socket.
    '/run/user/1000/podman/podman.sock': { kind: 'socket', uid: 1000 },
    '/proc/net/unix': {
      content:
        'Num       RefCount Protocol Flags    Type St Inode Path\n' +
        '0000000000000000: 00000002 00000000 00010000 0001 01 4242 /run/user/1000/podman/podman.sock\n',
    },
    '/proc/1/fd/3': { link: 'socket:[1]', uid: 0 },
    '/proc/2500': { kind: 'directory', uid: 1000 },
    '/proc/2500/comm': { content: 'systemd\n' },
    '/proc/2500/fd/7': { link: 'socket:[4242]' },
    '/proc/2600': { kind: 'directory', uid: 1000 },
    '/proc/2600/comm': { content: 'podman\n' },
    '/proc/2600/fd/0': { link: '/dev/null' },
    '/proc/2600/fd/3': { link: 'socket:[4242]' },
    '/proc/2600/cgroup': { content: `0::${userManager}/app.slice/podman.service\n` },
    '/proc/2600/limits': { content: limits(1024, 524288) },
    [`/sys/fs/cgroup${userManager}/app.slice/podman.service/cgroup.controllers`]: {
      content: 'memory pids\n',
    },
    [`/sys/fs/cgroup${userManager}/app.slice/podman.service`]: { kind: 'directory', uid: 1000 },
  };
}

function withProc2301(entries: Record<string, Entry>): Record<string, Entry> {
  return { ...entries, '/proc/2301': { kind: 'directory', uid: 1000 } };
}

const read = (
  entries: Record<string, Entry>,
  socketPath: string,
  extra: Partial<Parameters<typeof readHostState>[0]> = {},
) =>
  readHostState({
    connection: { kind: 'unix', socketPath },
    fs: new FakeFs(entries),
    kernelRelease: '6.8.0-31-generic',
    kurUid: 1000,
    ...extra,
  });

function localEngine(state: HostState): LocalEngineHost {
  if (!state.engine.local) throw new Error('expected a local engine');
  return state.engine;
}

describe('readHostState (injected host)', () => {
  it('reads a cgroup v2 systemd host and a rootless Docker found by its pid file', async () => {
    const state = await read(withProc2301(ubuntuHost()), '/run/user/1000/docker.sock');
    expect(state).to.deep.equal({
      kurUid: 1000,
      kernelRelease: '6.8.0-31-generic',
      systemd: true,
      cgroups: { mode: 'v2', v1Hierarchies: [] },
      sysctls: { unprivilegedPortStart: 1024, inotifyMaxUserWatches: 8192, inotifyMaxUserInstances: 128 },
      bridgeNetfilter: true,
      devices: {
        fuse: { kind: 'char', mode: 0o666, uid: 0, gid: 0 },
        tun: { kind: 'char', mode: 0o660, uid: 0, gid: 108 },
      },
      kernel: {
        source: '/proc/config.gz',
        options: {
          ...Object.fromEntries(Object.keys(state.kernel.options).map((o) => [o, 'missing'])),
          CONFIG_VXLAN: 'loaded',
          CONFIG_BRIDGE_NETFILTER: 'module',
          CONFIG_NF_TABLES: 'builtin',
        },
      },
      kurNofile: { soft: 1024, hard: 524288 },
      engine: {
        local: true,
        socketPath: '/run/user/1000/docker.sock',
        uid: 1000,
        uidSource: 'socket-owner',
        user: 'ubuntu',
        subuid: [{ start: 100000, count: 65536 }],
        subgid: [{ start: 100000, count: 65536 }],
        process: { pid: 2301, foundBy: 'pid-file' },
        nofile: { soft: 524288, hard: 524288 },
        cgroupV2: {
          path: `${userManager}/app.slice/docker.service`,
          foundBy: 'engine-process',
          controllers: ['cpuset', 'cpu', 'io', 'memory', 'pids'],
          subtreeControl: [],
          ownerUid: 1000,
        },
        systemdCgroupV1: undefined,
        lingering: true,
      },
    });
  });

  it('finds a socket-activated engine through /proc/net/unix, preferring it over the systemd manager', async () => {
    const engine = localEngine(await read(ubuntuHost(), '/run/user/1000/podman/podman.sock'));
    expect(engine.process).to.deep.equal({ pid: 2600, foundBy: 'socket-listener' });
    expect(engine.cgroupV2?.controllers).to.deep.equal(['memory', 'pids']);
    expect(engine.nofile).to.deep.equal({ soft: 1024, hard: 524288 });
  });

  it('ignores a pid file whose pid now belongs to another user (pids wrap)', async () => {
    const entries = { ...ubuntuHost(), '/proc/2301': { kind: 'directory' as const, uid: 33 } };
    const engine = localEngine(await read(entries, '/run/user/1000/docker.sock'));
    // Rootless Docker's socket is not in kur's /proc/net/unix: no process, so the user manager's cgroup is read.
    expect(engine.process).to.equal(undefined);
    expect(engine.cgroupV2?.foundBy).to.equal('systemd-user-manager');
    expect(engine.cgroupV2?.path).to.equal(userManager);
  });

  it("reads the engine user's subordinate ids when kur runs as root, with the uid given", async () => {
    const entries = { ...ubuntuHost(), '/run/user/1000/docker.sock': { kind: 'socket' as const, uid: 0 } };
    const engine = localEngine(
      await read(entries, '/run/user/1000/docker.sock', { kurUid: 0, engineUid: 1000 }),
    );
    expect(engine.uid).to.equal(1000);
    expect(engine.uidSource).to.equal('given');
    expect(engine.user).to.equal('ubuntu');
    expect(engine.subuid).to.deep.equal([{ start: 100000, count: 65536 }]);
  });

  it("falls back to kur's own cgroup when kur runs as the engine's user and nothing else is known", async () => {
    const entries = ubuntuHost();
    delete entries['/run/systemd/system/.keep'];
    const engine = localEngine(await read(entries, '/run/user/1000/docker.sock'));
    expect(engine.cgroupV2?.foundBy).to.equal('kur-process');
    expect(engine.cgroupV2?.path).to.equal(`${userManager}/app.slice/kur.scope`);
    expect(engine.lingering).to.equal(undefined);
  });

  it('reads only the address of a tcp engine', async () => {
    const fs = new FakeFs(ubuntuHost());
    const state = await readHostState({
      connection: { kind: 'tcp', host: '10.0.0.5', port: 2376, tls: undefined },
      fs,
      kernelRelease: '6.8.0-31-generic',
      kurUid: 1000,
    });
    expect(state.engine).to.deep.equal({ local: false, address: 'tcp://10.0.0.5:2376' });
    expect(fs.reads).to.not.include('/etc/subuid');
  });

  it('reads the name=systemd cgroup of the engine on a hybrid cgroup v1 host', async () => {
    const entries: Record<string, Entry> = {
      ...withProc2301(ubuntuHost()),
      '/proc/self/mounts': {
        content:
          'tmpfs /sys/fs/cgroup tmpfs rw 0 0\ncgroup /sys/fs/cgroup/memory cgroup rw,memory 0 0\n' +
          'cgroup /sys/fs/cgroup/systemd cgroup rw,name=systemd 0 0\ncgroup2 /sys/fs/cgroup/unified cgroup2 rw 0 0\n',
      },
      '/proc/self/cgroup': { content: '2:name=systemd:/\n1:memory:/\n0::/\n' },
      '/proc/2301/cgroup': { content: '2:name=systemd:/kur-test.slice/rootless-docker\n1:memory:/x\n0::/\n' },
      '/sys/fs/cgroup/systemd/kur-test.slice/rootless-docker': { kind: 'directory', uid: 1000 },
    };
    const state = await read(entries, '/run/user/1000/docker.sock');
    expect(state.cgroups).to.deep.equal({ mode: 'hybrid', v1Hierarchies: ['name=systemd', 'memory'] });
    expect(localEngine(state).cgroupV2).to.equal(undefined);
    expect(localEngine(state).systemdCgroupV1).to.deep.equal({
      mountPoint: '/sys/fs/cgroup/systemd',
      path: '/kur-test.slice/rootless-docker',
      foundBy: 'engine-process',
      ownerUid: 1000,
    });
  });

  it('reads kernel options from /boot, from module lists, or reports them unknown', async () => {
    const base = ubuntuHost();
    delete base['/proc/config.gz'];
    const boot = await read(
      { ...base, '/boot/config-6.8.0-31-generic': { content: 'CONFIG_VXLAN=y\n' } },
      '/x.sock',
    );
    expect(boot.kernel.source).to.equal('/boot/config-6.8.0-31-generic');
    expect(boot.kernel.options.CONFIG_VXLAN).to.equal('builtin');

    const lists = await read(
      {
        ...base,
        '/lib/modules/6.8.0-31-generic/modules.builtin': { content: 'kernel/net/bridge/br_netfilter.ko\n' },
        '/lib/modules/6.8.0-31-generic/modules.dep': {
          content:
            'kernel/drivers/net/vxlan/vxlan.ko.zst: kernel/net/ipv4/udp_tunnel.ko.zst\nkernel/net/netfilter/xt_comment.ko.zst:\n',
        },
        '/proc/modules': { content: 'xt_comment 12288 0 - Live 0x0\n' },
      },
      '/x.sock',
    );
    expect(lists.kernel.source).to.equal(
      '/lib/modules/6.8.0-31-generic/modules.builtin and modules.dep, /proc/modules',
    );
    expect(lists.kernel.options.CONFIG_BRIDGE_NETFILTER).to.equal('builtin');
    expect(lists.kernel.options.CONFIG_VXLAN).to.equal('module');
    expect(lists.kernel.options.CONFIG_NETFILTER_XT_MATCH_COMMENT).to.equal('loaded');
    expect(lists.kernel.options.CONFIG_NF_TABLES).to.equal('missing');

    delete base['/proc/modules'];
    const none = await read(base, '/x.sock');
    expect(none.kernel.source).to.equal('none');
    expect(Object.values(none.kernel.options)).to.satisfy((states: string[]) =>
      states.every((s) => s === 'unknown'),
    );
  });

  it('leaves what it cannot read undefined instead of failing', async () => {
    const state = await read({}, '/run/user/1000/docker.sock');
    expect(state.cgroups.mode).to.equal('none');
    expect(state.sysctls).to.deep.equal({
      unprivilegedPortStart: undefined,
      inotifyMaxUserWatches: undefined,
      inotifyMaxUserInstances: undefined,
    });
    expect(state.devices).to.deep.equal({ fuse: undefined, tun: undefined });
    expect(localEngine(state).uid).to.equal(undefined);
    expect(localEngine(state).uidSource).to.equal('unknown');
  });
});

describe('engineUidFromLibpodInfo', () => {
  it('takes the host uid Podman maps container root to', () => {
    const info = {
      host: {
        idMappings: {
          uidmap: [
            { container_id: 0, host_id: 1001, size: 1 },
            { container_id: 1, host_id: 100000, size: 65536 },
          ],
        },
      },
    };
    expect(engineUidFromLibpodInfo(info)).to.equal(1001);
    expect(engineUidFromLibpodInfo({ host: { idMappings: null } })).to.equal(undefined);
  });
});
