import type { DeviceNode } from './host-state.js';
import { kernelAtLeast, type IdRange } from './parse.js';
import {
  defineCheck,
  engineUser,
  localOf,
  modprobeFix,
  octal,
  restartEngineHint,
  sysctlFix,
} from './result.js';

function describeDevice(path: string, device: DeviceNode | undefined): string {
  if (device === undefined) return `${path}: missing`;
  return `${path}: ${device.kind === 'char' ? 'character device' : device.kind}, mode ${octal(device.mode)}, owner ${device.uid}:${device.gid}`;
}

/** Read and write for `uid` without relying on group membership (which preflight does not read). */
function usableBy(device: DeviceNode, uid: number | undefined): boolean {
  if (device.kind !== 'char') return false;
  if ((device.mode & 0o006) === 0o006) return true;
  return uid !== undefined && device.uid === uid && (device.mode & 0o600) === 0o600;
}

export const devFuseCheck = defineCheck('dev-fuse', '/dev/fuse', 'rootless-local', (ctx, report) => {
  const device = ctx.state.devices.fuse;
  const looked = describeDevice('/dev/fuse', device);
  if (device !== undefined && usableBy(device, ctx.local?.uid)) {
    return report('ok', looked, 'nodes can use fuse-overlayfs if native overlayfs fails');
  }
  const problem = device === undefined ? 'missing' : `not readable and writable by ${engineUser(ctx.local)}`;
  const fix = device === undefined ? modprobeFix(['fuse'], 'kur-fuse.conf') : 'sudo chmod 666 /dev/fuse';
  // Before 5.11 a user namespace cannot mount overlayfs: fuse-overlayfs is the only snapshotter that works.
  if (kernelAtLeast(ctx.state.kernelRelease, 5, 11) === false) {
    return report(
      'fail',
      looked,
      `/dev/fuse is ${problem}: on kernel ${ctx.state.kernelRelease} (< 5.11) the nodes' containerd needs fuse-overlayfs`,
      fix,
    );
  }
  return report(
    'warn',
    looked,
    `/dev/fuse is ${problem}: native overlayfs should work on this kernel, but there is no fuse-overlayfs fallback`,
    fix,
  );
});

export const devNetTunCheck = defineCheck('dev-net-tun', '/dev/net/tun', 'rootless-local', (ctx, report) => {
  const device = ctx.state.devices.tun;
  const looked = describeDevice('/dev/net/tun', device);
  const why =
    'rootless engines give containers a network through slirp4netns or pasta, which open /dev/net/tun';
  if (device === undefined)
    return report('fail', looked, `missing: ${why}`, modprobeFix(['tun'], 'kur-tun.conf'));
  if (usableBy(device, ctx.local?.uid)) return report('ok', looked, 'usable by the engine user');
  return report(
    'fail',
    looked,
    `not readable and writable by ${engineUser(ctx.local)}: ${why}`,
    [
      'sudo chmod 666 /dev/net/tun',
      `echo 'KERNEL=="tun", MODE="0666"' | sudo tee /etc/udev/rules.d/99-kur-tun.rules`,
    ].join('\n'),
  );
});

/** Container images own files up to uid 65534 (nobody): a rootless engine needs that many ids. */
export const minimumSubIds = 65536;

function total(ranges: IdRange[]): number {
  return ranges.reduce((sum, r) => sum + r.count, 0);
}

function describeRanges(file: string, user: string, ranges: IdRange[] | undefined): string {
  if (ranges === undefined) return `${file}: not readable`;
  if (ranges.length === 0) return `${file}: no entry for ${user}`;
  return `${file}: ${ranges.map((r) => `${user}:${r.start}:${r.count}`).join(', ')}`;
}

export const subIdsCheck = defineCheck(
  'subid-ranges',
  'subuid/subgid ranges',
  'rootless-local',
  (ctx, report) => {
    const local = localOf(ctx);
    const user = engineUser(local);
    const looked = `engine user ${user} (uid ${local.uid ?? '?'}, from ${local.uidSource}); ${describeRanges('/etc/subuid', user, local.subuid)}; ${describeRanges('/etc/subgid', user, local.subgid)}`;
    if (local.uid === undefined || local.subuid === undefined || local.subgid === undefined) {
      return report('warn', looked, 'could not read the engine user or its subordinate id ranges');
    }
    const short = (
      [
        ['subuid', total(local.subuid)],
        ['subgid', total(local.subgid)],
      ] as const
    ).filter(([, count]) => count < minimumSubIds);
    if (short.length === 0) return report('ok', looked, `at least ${minimumSubIds} ids each`);
    return report(
      'fail',
      looked,
      `${short.map(([kind, count]) => `${count} ${kind}s`).join(' and ')} for ${user}: images own files up to uid 65534, a rootless engine needs ${minimumSubIds}`,
      [
        `sudo usermod --add-subuids 100000-165535 --add-subgids 100000-165535 ${user}   # pick a range no other user has`,
        ctx.engine.provider === 'podman' ? 'podman system migrate' : restartEngineHint(ctx.engine),
      ].join('\n'),
    );
  },
);

export const unprivilegedPortsCheck = defineCheck(
  'unprivileged-ports',
  'host ports below ip_unprivileged_port_start',
  'rootless-local',
  (ctx, report) => {
    const start = ctx.state.sysctls.unprivilegedPortStart;
    const ports = ctx.request.hostPorts.filter((p) => p.port > 0);
    const listed = ports.map((p) => `${p.address || '0.0.0.0'}:${p.port}/${p.protocol}`).join(', ') || 'none';
    const looked = `/proc/sys/net/ipv4/ip_unprivileged_port_start = ${start ?? 'unreadable'}; requested host ports: ${listed}`;
    if (start === undefined) {
      return ports.length === 0
        ? report('ok', looked, 'no host ports requested')
        : report('warn', looked, 'could not read net.ipv4.ip_unprivileged_port_start');
    }
    const low = ports.filter((p) => p.port < start);
    if (low.length === 0) return report('ok', looked, `no requested host port is below ${start}`);
    const lowest = Math.min(...low.map((p) => p.port));
    const fix = [
      sysctlFix({ 'net.ipv4.ip_unprivileged_port_start': lowest }, '99-kur-unprivileged-ports.conf'),
    ];
    if (ctx.engine.provider === 'docker') {
      fix.push(
        '# or let only RootlessKit bind them: sudo setcap cap_net_bind_service=ep $(command -v rootlesskit), then restart the engine',
      );
    }
    return report(
      'fail',
      looked,
      `a rootless engine binds host ports as ${engineUser(ctx.local)}: ${low.map((p) => `${p.port}/${p.protocol}`).join(', ')} ${low.length === 1 ? 'is' : 'are'} below net.ipv4.ip_unprivileged_port_start=${start}`,
      fix.join('\n'),
    );
  },
);

/** kind's "known issues": below these, clusters fail with "too many open files". */
export const inotifyMinimums = { watches: 524288, instances: 512 } as const;

function inotifyCheck(kind: 'watches' | 'instances') {
  return defineCheck(`inotify-${kind}`, `inotify ${kind}`, 'local', (ctx, report) => {
    const sysctl = `fs.inotify.max_user_${kind}`;
    const value =
      kind === 'watches'
        ? ctx.state.sysctls.inotifyMaxUserWatches
        : ctx.state.sysctls.inotifyMaxUserInstances;
    const minimum = inotifyMinimums[kind];
    const looked = `/proc/sys/fs/inotify/max_user_${kind} = ${value ?? 'unreadable'}`;
    if (value === undefined) return report('warn', looked, `could not read ${sysctl}`);
    if (value >= minimum) return report('ok', looked, `at least ${minimum}`);
    return report(
      'warn',
      looked,
      `${sysctl} = ${value} is below ${minimum}: every node's kubelet, containerd and pods share this per-user limit, and clusters fail with "too many open files" when it runs out`,
      sysctlFix({ [sysctl]: minimum }, `99-kur-inotify-${kind}.conf`),
    );
  });
}

export const inotifyWatchesCheck = inotifyCheck('watches');
export const inotifyInstancesCheck = inotifyCheck('instances');

/**
 * Hard RLIMIT_NOFILE the engine's containers inherit. Every node's containerd, kubelet, etcd and
 * API server raise their soft limit to it, and the engine itself holds descriptors per
 * container and connection. The per-node figure is a heuristic, not a measurement.
 */
export function minimumNofile(nodeCount: number): number {
  return Math.max(16384, 4096 * nodeCount);
}

export const nofileCheck = defineCheck(
  'nofile',
  'open files limit (RLIMIT_NOFILE)',
  'local',
  (ctx, report) => {
    const local = localOf(ctx);
    const limit = local.nofile ?? ctx.state.kurNofile;
    const source =
      local.nofile !== undefined
        ? `/proc/${local.process?.pid}/limits (engine)`
        : '/proc/self/limits (kur; engine process not found)';
    if (limit === undefined)
      return report('warn', `${source}: unreadable`, 'could not read the open files limit');
    const looked = `${source}: Max open files soft ${limit.soft}, hard ${limit.hard}`;
    const nodes = ctx.request.nodeCount;
    const minimum = minimumNofile(nodes);
    if (limit.hard === 'unlimited' || limit.hard >= minimum) {
      return report('ok', looked, `hard limit at least ${minimum} for ${nodes} node(s)`);
    }
    const user = ctx.engine.rootless ? engineUser(local) : 'root';
    return report(
      'warn',
      looked,
      `hard limit ${limit.hard} is below ${minimum} for ${nodes} node(s): components in the nodes may fail with "too many open files"`,
      [
        `printf '${user} hard nofile 1048576\\n${user} soft nofile 1048576\\n' | sudo tee /etc/security/limits.d/99-kur.conf   # new logins`,
        '# engines run by systemd: DefaultLimitNOFILE=1048576 in /etc/systemd/system.conf (and user.conf), then sudo systemctl daemon-reexec',
        '# then restart the engine',
      ].join('\n'),
    );
  },
);

export const lingerCheck = defineCheck(
  'linger',
  'systemd lingering for the engine user',
  'rootless-local',
  (ctx, report) => {
    const local = localOf(ctx);
    const user = engineUser(local);
    if (local.lingering === undefined) {
      return report(
        'skip',
        'no systemd (/run/systemd/system missing) or unknown user',
        'not applicable: no systemd user manager',
      );
    }
    const looked = `/var/lib/systemd/linger/${user}: ${local.lingering ? 'present' : 'missing'}`;
    if (local.lingering) return report('ok', looked, 'the engine keeps running after logout');
    return report(
      'warn',
      looked,
      `systemd stops ${user}'s services, the engine and every node with them, when ${user}'s last session ends`,
      `sudo loginctl enable-linger ${user}`,
    );
  },
);
