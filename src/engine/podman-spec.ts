import { constants } from 'node:os';
import type { JsonRecord } from './json.js';
import type { ContainerSpec } from './types.js';
import { KurError } from '../util/errors.js';

/**
 * Podman containers are created through libpod's own endpoint with a SpecGenerator body: its
 * compat endpoint (4.3) drops HostConfig.CgroupnsMode (a node would share the engine's cgroup
 * namespace) and MaskedPaths. Defaults follow what the compat endpoint would pick, so a
 * container comes out the same apart from the fields that endpoint loses.
 */
export function podmanCreateBody(spec: ContainerSpec): JsonRecord {
  const body: JsonRecord = {
    name: spec.name,
    image: spec.image,
    // The compat endpoint's choices: bridge networking (not slirp4netns) and systemd detection.
    netns: { nsmode: 'bridge' },
    systemd: 'true',
  };
  const set = (key: string, value: unknown): void => {
    if (value !== undefined) body[key] = value;
  };
  set('hostname', spec.hostname);
  set('labels', spec.labels);
  set('env', spec.env);
  set('entrypoint', spec.entrypoint);
  set('command', spec.cmd);
  set('work_dir', spec.workingDir);
  set('user', spec.user);
  set('terminal', spec.tty);
  set('stdin', spec.openStdin);
  set('privileged', spec.privileged);
  set('cap_add', spec.capAdd);
  set('cap_drop', spec.capDrop);
  Object.assign(body, securityFields(spec.securityOpt ?? []));
  if (spec.maskedPaths !== undefined || spec.readonlyPaths !== undefined) {
    if ((spec.maskedPaths ?? []).length > 0 || (spec.readonlyPaths ?? []).length > 0) {
      throw unsupported('masked or read-only path lists other than empty');
    }
    body.unmask = ['ALL'];
  }
  set(
    'devices',
    spec.devices?.map((d) => ({
      path: `${d.hostPath}:${d.containerPath ?? d.hostPath}:${d.permissions ?? 'rwm'}`,
    })),
  );
  set('device_cgroup_rule', spec.deviceCgroupRules?.map(deviceRule));

  const mounts: JsonRecord[] = [];
  for (const [destination, options] of Object.entries(spec.tmpfs ?? {})) {
    mounts.push({
      destination,
      type: 'tmpfs',
      source: 'tmpfs',
      options: options === '' ? [] : options.split(','),
    });
  }
  const volumes: JsonRecord[] = [];
  for (const mount of spec.mounts ?? []) {
    const mode = mount.readOnly === true ? 'ro' : 'rw';
    if (mount.type === 'bind') {
      const options = ['rbind', mode];
      if (mount.propagation !== undefined) options.push(mount.propagation);
      mounts.push({ destination: mount.target, type: 'bind', source: mount.source, options });
    } else {
      // An empty name makes libpod create an anonymous volume, removed with the container.
      volumes.push({ Name: mount.source ?? '', Dest: mount.target, Options: [mode] });
    }
  }
  if (mounts.length > 0) body.mounts = mounts;
  if (volumes.length > 0) body.volumes = volumes;

  set(
    'portmappings',
    spec.ports?.map((p) => ({
      host_ip: p.hostIp ?? '',
      container_port: p.containerPort,
      host_port: p.hostPort ?? 0,
      protocol: p.protocol ?? 'tcp',
    })),
  );
  if (spec.network !== undefined) {
    const options: JsonRecord = {};
    if (spec.network.aliases !== undefined) options.aliases = spec.network.aliases;
    const ips = [spec.network.ipv4Address, spec.network.ipv6Address].filter((ip) => ip !== undefined);
    if (ips.length > 0) options.static_ips = ips;
    body.networks = { [spec.network.name]: options };
  }
  if (spec.restartPolicy !== undefined) {
    body.restart_policy = spec.restartPolicy.name;
    set('restart_tries', spec.restartPolicy.maximumRetryCount);
  }
  if (spec.cgroupnsMode !== undefined) body.cgroupns = { nsmode: spec.cgroupnsMode };
  if (spec.pidMode !== undefined) body.pidns = { nsmode: spec.pidMode };
  if (spec.usernsMode !== undefined) body.userns = { nsmode: spec.usernsMode };
  set('init', spec.init);

  const limits: JsonRecord = {};
  if (spec.pidsLimit !== undefined) limits.pids = { limit: spec.pidsLimit };
  if (spec.memoryBytes !== undefined) limits.memory = { limit: spec.memoryBytes };
  if (spec.nanoCpus !== undefined)
    limits.cpu = { period: 100_000, quota: Math.round(spec.nanoCpus / 10_000) };
  if (Object.keys(limits).length > 0) body.resource_limits = limits;

  if (spec.logConfig !== undefined) {
    body.log_configuration = { driver: spec.logConfig.type, options: spec.logConfig.config ?? {} };
  }
  if (spec.stopSignal !== undefined) body.stop_signal = signalNumber(spec.stopSignal);
  set('stop_timeout', spec.stopTimeoutSeconds);
  set('sysctl', spec.sysctls);
  set(
    'r_limits',
    spec.ulimits?.map((u) => ({ type: `RLIMIT_${u.name.toUpperCase()}`, soft: u.soft, hard: u.hard })),
  );
  set('shm_size', spec.shmSizeBytes);
  set('read_only_filesystem', spec.readonlyRootfs);
  set('hostadd', spec.extraHosts);
  set('remove', spec.autoRemove);
  return body;
}

function unsupported(what: string): KurError {
  return new KurError('engine', `kur cannot pass ${what} to Podman`, {
    hint: 'this is a bug in kur: the node spec asks for something the Podman mapping lacks.',
  });
}

/** Security options in the compat spelling, as libpod fields. */
function securityFields(options: string[]): JsonRecord {
  const fields: JsonRecord = {};
  for (const option of options) {
    const [key, value] = option.split(/[=:](.*)/s) as [string, string | undefined];
    if (key === 'seccomp' && value !== undefined) fields.seccomp_profile_path = value;
    else if (key === 'apparmor' && value !== undefined) fields.apparmor_profile = value;
    else if (key === 'label' && value !== undefined)
      fields.selinux_opts = [...((fields.selinux_opts as string[]) ?? []), value];
    else if (key === 'systempaths' && value === 'unconfined') fields.unmask = ['ALL'];
    else if (key === 'no-new-privileges') fields.no_new_privileges = value === undefined || value === 'true';
    else throw unsupported(`the security option "${option}"`);
  }
  return fields;
}

/** `a *:* rwm`, `c 10:229 rwm` as an OCI device cgroup entry (a wildcard is an absent number). */
function deviceRule(rule: string): JsonRecord {
  const match = /^([abc])\s+(\*|\d+):(\*|\d+)\s+([rwm]{1,3})$/.exec(rule.trim());
  if (match === null) throw unsupported(`the device cgroup rule "${rule}"`);
  const [, type, major, minor, access] = match;
  const entry: JsonRecord = { allow: true, type, access };
  if (major !== '*') entry.major = Number(major);
  if (minor !== '*') entry.minor = Number(minor);
  return entry;
}

/** glibc's SIGRTMIN on Linux (the kernel's 32 plus the two glibc keeps); what Podman reads. */
const sigrtmin = 34;

/** A signal name (`SIGTERM`, `TERM`, `SIGRTMIN+3`) or number as the number Podman's field takes. */
export function signalNumber(signal: string): number {
  const text = signal.trim().toUpperCase();
  if (/^\d+$/.test(text)) return Number(text);
  const name = text.startsWith('SIG') ? text : `SIG${text}`;
  const rt = /^SIGRTMIN(?:\+(\d+))?$/.exec(name);
  if (rt !== null) return sigrtmin + Number(rt[1] ?? 0);
  const rtmax = /^SIGRTMAX(?:-(\d+))?$/.exec(name);
  if (rtmax !== null) return 64 - Number(rtmax[1] ?? 0);
  const number = (constants.signals as Record<string, number | undefined>)[name];
  if (number === undefined) throw unsupported(`the stop signal "${signal}"`);
  return number;
}
