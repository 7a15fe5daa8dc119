import type { EngineCgroupV2 } from './read-engine-host.js';
import { defineCheck, engineUser, localOf, restartEngineHint, type CheckContext } from './result.js';

/** The kubelet in a user namespace needs these delegated (Kubernetes "KubeletInUserNamespace" task). */
export const requiredControllers = ['cpu', 'memory', 'pids'] as const;
/** kind's rootless guide delegates these too (CPU pinning, io weights). */
export const recommendedControllers = ['cpuset', 'io'] as const;

/** Whether a rootless engine can give its node containers cgroups, and why not. */
export type CgroupAccess =
  | { kind: 'delegated'; looked: string; missingRecommended: string[] }
  | { kind: 'none'; looked: string; reason: string; fix: string }
  | { kind: 'unknown'; looked: string };

const delegateDropIn = '/etc/systemd/system/user@.service.d/delegate.conf';

function delegationFix(ctx: CheckContext): string {
  const user = engineUser(ctx.local);
  if (ctx.local !== undefined && !ctx.state.systemd) {
    const dir = `/sys/fs/cgroup/${user}`;
    return [
      '# no systemd here: delegate a cgroup v2 subtree by hand, then start the engine inside it',
      "echo '+cpu +cpuset +io +memory +pids' | sudo tee /sys/fs/cgroup/cgroup.subtree_control",
      `sudo mkdir -p ${dir} && sudo chown -R ${user} ${dir}`,
      `echo $$ | sudo tee ${dir}/cgroup.procs   # from the shell that starts the engine`,
    ].join('\n');
  }
  return [
    'sudo mkdir -p /etc/systemd/system/user@.service.d',
    `printf '[Service]\\nDelegate=cpu cpuset io memory pids\\n' | sudo tee ${delegateDropIn}`,
    'sudo systemctl daemon-reload',
    `# log out and back in as ${user} (or: sudo systemctl restart user@${ctx.local?.uid ?? '<uid>'}.service), then:`,
    restartEngineHint(ctx.engine),
  ].join('\n');
}

function bootCgroupV2Fix(ctx: CheckContext): string {
  const boot =
    ctx.local !== undefined && !ctx.state.systemd
      ? [
          '# boot with cgroup v2 only: add cgroup_no_v1=all to the kernel command line (systemd.unified_cgroup_hierarchy=1 where systemd is init), and have init',
          '# mount cgroup2 on /sys/fs/cgroup (mount -t cgroup2 none /sys/fs/cgroup) instead of the v1 hierarchies',
        ]
      : [
          "sudo sed -i 's/^GRUB_CMDLINE_LINUX=\"/&systemd.unified_cgroup_hierarchy=1 /' /etc/default/grub",
          'sudo update-grub   # Fedora/RHEL: sudo grubby --update-kernel=ALL --args=systemd.unified_cgroup_hierarchy=1',
          'sudo reboot',
        ];
  return [...boot, '# then delegate cpu, memory and pids to the engine user:', delegationFix(ctx)].join('\n');
}

function controllersLooked(cg: EngineCgroupV2): string {
  const source = {
    'engine-process': 'the engine process',
    'systemd-user-manager': "the user's systemd manager",
    'kur-process': "kur's own process",
  }[cg.foundBy];
  return `/sys/fs/cgroup${cg.path}/cgroup.controllers = "${(cg.controllers ?? []).join(' ')}" (cgroup of ${source}, owner uid ${cg.ownerUid ?? '?'})`;
}

function localCgroupV2Access(ctx: CheckContext, cg: EngineCgroupV2 | undefined): CgroupAccess {
  if (cg?.controllers === undefined) {
    return {
      kind: 'unknown',
      looked:
        "cgroup v2, but the engine's cgroup was not found (no pid file, no socket listener visible, no systemd user manager)",
    };
  }
  const looked = controllersLooked(cg);
  const have = new Set(cg.controllers);
  const missing = requiredControllers.filter((c) => !have.has(c));
  if (missing.length > 0) {
    return {
      kind: 'none',
      looked,
      reason: `cgroup v2 without delegated ${missing.join(', ')}: only "${cg.controllers.join(' ')}" reach the engine's cgroup`,
      fix: delegationFix(ctx),
    };
  }
  const uid = ctx.local?.uid;
  if (uid !== undefined && cg.ownerUid !== undefined && cg.ownerUid !== uid) {
    return {
      kind: 'none',
      looked,
      reason: `cgroup v2, but the engine's cgroup ${cg.path} belongs to uid ${cg.ownerUid}, not to the engine's user (uid ${uid}): nothing is delegated to it`,
      fix: [
        `# run the engine as a systemd user service of ${engineUser(ctx.local)}, inside user@${uid}.service:`,
        restartEngineHint(ctx.engine),
      ].join('\n'),
    };
  }
  if (ctx.engine.cgroupDriver === 'none') {
    return {
      kind: 'none',
      looked: `${looked}; engine cgroup driver "none"`,
      reason: 'cgroups are delegated, but the engine runs without a cgroup manager (driver "none")',
      fix: [
        '# the engine chooses its cgroup driver at start; restart it inside the delegated cgroup:',
        restartEngineHint(ctx.engine),
      ].join('\n'),
    };
  }
  return {
    kind: 'delegated',
    looked,
    missingRecommended: recommendedControllers.filter((c) => !have.has(c)),
  };
}

function localCgroupAccess(ctx: CheckContext): CgroupAccess {
  const { cgroups } = ctx.state;
  if (cgroups.mode === 'v2') return localCgroupV2Access(ctx, ctx.local?.cgroupV2);
  const looked = `/proc/self/mounts: cgroup ${cgroups.mode} (v1 hierarchies: ${cgroups.v1Hierarchies.join(', ') || 'none'})`;
  if (cgroups.mode === 'none') {
    return { kind: 'none', looked, reason: 'no cgroup filesystem is mounted', fix: bootCgroupV2Fix(ctx) };
  }
  return {
    kind: 'none',
    looked,
    reason: `cgroup v1${cgroups.mode === 'hybrid' ? ' (hybrid layout)' : ''}: nothing delegates v1 controllers to a user, so the rootless engine gets no cgroups`,
    fix: bootCgroupV2Fix(ctx),
  };
}

/** For an engine kur cannot look behind (remote, VM), its own report is the evidence. */
function reportedCgroupAccess(ctx: CheckContext): CgroupAccess {
  const { engine } = ctx;
  const looked = `engine reports cgroup v${engine.cgroupVersion ?? '?'}, driver ${engine.cgroupDriver}, limits memory=${engine.limits.memory} cpu=${engine.limits.cpu} pids=${engine.limits.pids}`;
  if (engine.cgroupVersion === 1) {
    return {
      kind: 'none',
      looked,
      reason: 'the engine reports cgroup v1: nothing delegates v1 controllers to a user',
      fix: bootCgroupV2Fix(ctx),
    };
  }
  if (engine.cgroupVersion === undefined) return { kind: 'unknown', looked };
  const missing = requiredControllers.filter((c) => !engine.limits[c]);
  if (missing.length > 0) {
    return {
      kind: 'none',
      looked,
      reason: `cgroup v2, but the engine cannot limit ${missing.join(', ')} (not delegated to it)`,
      fix: delegationFix(ctx),
    };
  }
  return { kind: 'delegated', looked, missingRecommended: [] };
}

export function cgroupAccess(ctx: CheckContext): CgroupAccess {
  if (ctx.local === undefined) return reportedCgroupAccess(ctx);
  const access = localCgroupAccess(ctx);
  return access.kind === 'unknown' ? reportedCgroupAccess(ctx) : access;
}

export const cgroupVersionCheck = defineCheck('cgroup-version', 'cgroup version', 'any', (ctx, report) => {
  const version =
    ctx.local === undefined
      ? ctx.engine.cgroupVersion
      : ({ v2: 2, v1: 1, hybrid: 1, none: undefined } as const)[ctx.state.cgroups.mode];
  const looked =
    ctx.local === undefined
      ? `engine reports cgroup v${ctx.engine.cgroupVersion ?? '?'} (${ctx.notLocalReason})`
      : `/proc/self/mounts: ${ctx.state.cgroups.mode}`;
  if (version === 2) return report('ok', looked, 'cgroup v2');
  if (version === 1) {
    return report(
      'ok',
      looked,
      'cgroup v1: kur runs the kubelet with failCgroupV1: false (Kubernetes deprecates v1)',
    );
  }
  return report('warn', looked, 'could not tell the cgroup version');
});

const degradedEffects =
  'nodes and pods run without resource limits (memory, CPU and pids limits are accepted but not enforced) and without QoS cgroups';

/**
 * The verdict for a rootless engine: a delegated cgroup v2 tree, or, without one, either
 * kur's degraded mode or a stop with the reason and the fix, as the policy decides.
 */
export const rootlessCgroupsCheck = defineCheck(
  'rootless-cgroups',
  'cgroups delegated to the rootless engine',
  'rootless',
  (ctx, report) => {
    const access = cgroupAccess(ctx);
    if (access.kind === 'unknown') {
      return report('warn', access.looked, 'could not tell whether cgroups are delegated to the engine');
    }
    if (access.kind === 'delegated') {
      if (access.missingRecommended.length === 0) {
        return report('ok', access.looked, 'cpu, memory and pids are delegated');
      }
      return report(
        'warn',
        access.looked,
        `cpu, memory and pids are delegated, ${access.missingRecommended.join(' and ')} not (CPU pinning and io weights do not work)`,
        delegationFix(ctx),
      );
    }
    if (ctx.request.rootlessWithoutCgroups === 'supported-degraded') {
      return report('warn', access.looked, `degraded mode: ${access.reason}; ${degradedEffects}`, access.fix);
    }
    return report(
      'fail',
      access.looked,
      `a rootless cluster needs a delegated cgroup v2 tree with cpu, memory and pids; here: ${access.reason}`,
      access.fix,
    );
  },
);

/**
 * Rootless on cgroup v1 in degraded mode: systemd in a node creates its cgroups in the
 * name=systemd hierarchy, so the engine must run in a name=systemd cgroup its user owns
 * (as a systemd host delegates it), else systemd exits at once.
 */
export const systemdCgroupV1Check = defineCheck(
  'systemd-cgroup-v1',
  'name=systemd cgroup owned by the engine user',
  'rootless-local',
  (ctx, report) => {
    const local = localOf(ctx);
    if (ctx.state.cgroups.mode !== 'v1' && ctx.state.cgroups.mode !== 'hybrid') {
      return report('skip', `/proc/self/mounts: ${ctx.state.cgroups.mode}`, 'not applicable: no cgroup v1');
    }
    if (ctx.request.rootlessWithoutCgroups === 'unsupported') {
      return report(
        'skip',
        'rootlessWithoutCgroups: unsupported',
        'not applicable: rootless clusters on cgroup v1 are not supported (see rootless-cgroups)',
      );
    }
    const v1 = local.systemdCgroupV1;
    const user = engineUser(local);
    const dir = `/sys/fs/cgroup/systemd/${user}.slice`;
    const fix = [
      `sudo mkdir -p ${dir} && sudo chown -R ${user} ${dir}`,
      `echo $$ | sudo tee ${dir}/cgroup.procs   # from the shell that then starts the engine`,
    ].join('\n');
    if (v1?.mountPoint === undefined) {
      return report(
        'fail',
        '/proc/self/mounts: no name=systemd hierarchy',
        'the host mounts no name=systemd hierarchy: systemd in a node cannot create its cgroups',
        [
          'sudo mkdir -p /sys/fs/cgroup/systemd',
          'sudo mount -t cgroup -o none,name=systemd cgroup /sys/fs/cgroup/systemd',
          fix,
        ].join('\n'),
      );
    }
    if (v1.path === undefined) {
      return report(
        'skip',
        'engine process not found (no pid file, socket listener not visible)',
        'not checked: could not find the engine process',
      );
    }
    const looked = `${v1.mountPoint}${v1.path} (cgroup of the ${v1.foundBy === 'engine-process' ? 'engine' : 'kur'} process), owner uid ${v1.ownerUid ?? '?'}`;
    if (v1.ownerUid === local.uid) return report('ok', looked, 'systemd in a node can create its cgroups');
    return report(
      'fail',
      looked,
      'the engine runs in a name=systemd cgroup its user does not own: systemd in a node exits at once ("Failed to create /init.scope control group: Permission denied")',
      fix,
    );
  },
);
