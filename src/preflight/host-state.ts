import os from 'node:os';
import { gunzipSync } from 'node:zlib';
import type { Connection } from '../engine/types.js';
import { realPreflightFs, type FileInfo, type PreflightFs } from './fs.js';
import { kernelFeaturesFrom, type KernelFeatures, type KernelSources } from './kernel-features.js';
import {
  cgroupModeOf,
  parseInteger,
  parseMounts,
  parseNofile,
  parseProcCgroup,
  type CgroupMode,
  type Limit,
} from './parse.js';
import { readEngineHost, type EngineHost } from './read-engine-host.js';

export type { EngineHost } from './read-engine-host.js';

/** A device node as preflight saw it. */
export interface DeviceNode {
  kind: FileInfo['kind'];
  /** Permission bits, e.g. 0o666. */
  mode: number;
  uid: number;
  gid: number;
}

/**
 * Everything the preflight checks look at on the engine's host, read once (readHostState) and
 * then judged by pure functions (checks.ts). Recorded as JSON in testdata/ for unit tests.
 */
export interface HostState {
  /** The user kur ran as when this was read (it may differ from the rootless engine's user). */
  kurUid: number;
  kernelRelease: string;
  /** systemd is the init system (`/run/systemd/system` exists): decides which fixes apply. */
  systemd: boolean;
  cgroups: {
    mode: CgroupMode;
    /** v1 hierarchies as /proc/self/cgroup names them (`cpu,cpuacct`, `name=systemd`). */
    v1Hierarchies: string[];
  };
  sysctls: {
    unprivilegedPortStart: number | undefined;
    inotifyMaxUserWatches: number | undefined;
    inotifyMaxUserInstances: number | undefined;
  };
  /** `/proc/sys/net/bridge` exists: br_netfilter is active. */
  bridgeNetfilter: boolean;
  devices: { fuse: DeviceNode | undefined; tun: DeviceNode | undefined };
  kernel: KernelFeatures;
  /** RLIMIT_NOFILE of kur's own process (/proc/self/limits). */
  kurNofile: Limit | undefined;
  engine: EngineHost;
}

export interface ReadHostStateOptions {
  /** How kur reaches the engine: host facts are only read for a unix socket. */
  connection: Connection;
  /**
   * The uid the engine runs as, when known better than from the socket's owner (Podman's
   * `host.idMappings`, see engineUidFromLibpodInfo).
   */
  engineUid?: number | undefined;
  fs?: PreflightFs;
  /** `uname -r`; defaults to os.release(). */
  kernelRelease?: string;
  /** The uid kur runs as; defaults to process.getuid(). */
  kurUid?: number;
}

export const paths = {
  mounts: '/proc/self/mounts',
  selfCgroup: '/proc/self/cgroup',
  selfLimits: '/proc/self/limits',
  unprivilegedPortStart: '/proc/sys/net/ipv4/ip_unprivileged_port_start',
  inotifyWatches: '/proc/sys/fs/inotify/max_user_watches',
  inotifyInstances: '/proc/sys/fs/inotify/max_user_instances',
  bridgeSysctls: '/proc/sys/net/bridge',
  fuse: '/dev/fuse',
  tun: '/dev/net/tun',
  systemdRunDir: '/run/systemd/system',
  procConfig: '/proc/config.gz',
  procModules: '/proc/modules',
} as const;

export function bootConfigPath(release: string): string {
  return `/boot/config-${release}`;
}

export function moduleDir(release: string): string {
  return `/lib/modules/${release}`;
}

async function readText(fs: PreflightFs, path: string): Promise<string | undefined> {
  return (await fs.readFile(path))?.toString('utf8');
}

async function deviceNode(fs: PreflightFs, path: string): Promise<DeviceNode | undefined> {
  const info = await fs.stat(path);
  return info === undefined ? undefined : { kind: info.kind, mode: info.mode, uid: info.uid, gid: info.gid };
}

async function kernelConfig(fs: PreflightFs, release: string): Promise<KernelSources['config']> {
  const gz = await fs.readFile(paths.procConfig);
  if (gz !== undefined) {
    try {
      return { path: paths.procConfig, text: gunzipSync(gz).toString('utf8') };
    } catch {
      // A truncated or foreign file: fall through to /boot.
    }
  }
  const boot = await readText(fs, bootConfigPath(release));
  return boot === undefined ? undefined : { path: bootConfigPath(release), text: boot };
}

async function readKernelFeatures(fs: PreflightFs, release: string): Promise<KernelFeatures> {
  const [config, loadedModules] = await Promise.all([
    kernelConfig(fs, release),
    readText(fs, paths.procModules),
  ]);
  if (config !== undefined) return kernelFeaturesFrom({ config, loadedModules });
  const dir = moduleDir(release);
  const [builtin, dep] = await Promise.all([
    readText(fs, `${dir}/modules.builtin`),
    readText(fs, `${dir}/modules.dep`),
  ]);
  return kernelFeaturesFrom({ loadedModules, moduleLists: { dir, builtin, dep } });
}

async function readSysctl(fs: PreflightFs, path: string): Promise<number | undefined> {
  return parseInteger(await readText(fs, path));
}

/**
 * Reads the host facts preflight judges. Only files are read (no commands, no engine calls),
 * in parallel, so it takes milliseconds. For a tcp engine only kur's own view is read and
 * `engine.local` is false: the checks then report host checks as not checked.
 */
export async function readHostState(options: ReadHostStateOptions): Promise<HostState> {
  const fs = options.fs ?? realPreflightFs;
  const kernelRelease = options.kernelRelease ?? os.release();
  const kurUid = options.kurUid ?? process.getuid?.() ?? -1;
  const [
    mountsText,
    selfCgroup,
    selfLimits,
    portStart,
    watches,
    instances,
    bridge,
    fuse,
    tun,
    systemdDir,
    kernel,
  ] = await Promise.all([
    readText(fs, paths.mounts),
    readText(fs, paths.selfCgroup),
    readText(fs, paths.selfLimits),
    readSysctl(fs, paths.unprivilegedPortStart),
    readSysctl(fs, paths.inotifyWatches),
    readSysctl(fs, paths.inotifyInstances),
    fs.stat(paths.bridgeSysctls),
    deviceNode(fs, paths.fuse),
    deviceNode(fs, paths.tun),
    fs.stat(paths.systemdRunDir),
    readKernelFeatures(fs, kernelRelease),
  ]);
  const mounts = parseMounts(mountsText ?? '');
  const cgroups = {
    mode: cgroupModeOf(mounts),
    v1Hierarchies: Object.keys(parseProcCgroup(selfCgroup ?? '').v1),
  };
  const systemd = systemdDir?.kind === 'directory';
  const engine = await readEngineHost(fs, {
    connection: options.connection,
    engineUid: options.engineUid,
    kurUid,
    cgroupMode: cgroups.mode,
    mounts,
    selfCgroup: selfCgroup ?? '',
    systemd,
  });
  return {
    kurUid,
    kernelRelease,
    systemd,
    cgroups,
    sysctls: {
      unprivilegedPortStart: portStart,
      inotifyMaxUserWatches: watches,
      inotifyMaxUserInstances: instances,
    },
    bridgeNetfilter: bridge?.kind === 'directory',
    devices: { fuse, tun },
    kernel,
    kurNofile: parseNofile(selfLimits ?? ''),
    engine,
  };
}

/**
 * The host uid a rootless Podman maps its root to (`host.idMappings.uidmap`, container id 0):
 * the engine's user, even when kur runs as someone else. Undefined for rootful Podman.
 */
export function engineUidFromLibpodInfo(libpodInfo: Record<string, unknown>): number | undefined {
  const host = libpodInfo.host as { idMappings?: { uidmap?: unknown } } | undefined;
  const uidmap = host?.idMappings?.uidmap;
  if (!Array.isArray(uidmap)) return undefined;
  const root = (uidmap as { container_id?: unknown; host_id?: unknown }[]).find((m) => m.container_id === 0);
  return typeof root?.host_id === 'number' ? root.host_id : undefined;
}
