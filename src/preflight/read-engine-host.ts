import { dirname } from 'node:path';
import type { Connection } from '../engine/types.js';
import type { PreflightFs } from './fs.js';
import {
  cgroupRoot,
  listeningSocketInodes,
  parseNofile,
  parseProcCgroup,
  parseSubIds,
  userNameOf,
  v1MountPoint,
  words,
  type CgroupMode,
  type IdRange,
  type Limit,
  type MountEntry,
} from './parse.js';

/** How the engine's process was found: its pid file, or the process holding its listening socket. */
export interface EngineProcess {
  pid: number;
  foundBy: 'pid-file' | 'socket-listener';
}

/** The cgroup v2 tree a rootless engine creates its containers' cgroups in. */
export interface EngineCgroupV2 {
  /** Path below /sys/fs/cgroup. */
  path: string;
  foundBy: 'engine-process' | 'systemd-user-manager' | 'kur-process';
  /** `cgroup.controllers`: what this cgroup may use, i.e. what its parent delegated. */
  controllers: string[] | undefined;
  subtreeControl: string[] | undefined;
  /** Owner of the directory: the engine's user when the tree is delegated to it. */
  ownerUid: number | undefined;
}

/** On cgroup v1, the engine's `name=systemd` cgroup: systemd in a node needs it writable. */
export interface EngineSystemdCgroupV1 {
  /** Where the name=systemd hierarchy is mounted; undefined when it is not. */
  mountPoint: string | undefined;
  path: string | undefined;
  foundBy: 'engine-process' | 'kur-process' | undefined;
  ownerUid: number | undefined;
}

export interface LocalEngineHost {
  local: true;
  socketPath: string;
  /** The uid the engine runs as. */
  uid: number | undefined;
  uidSource: 'socket-owner' | 'given' | 'unknown';
  user: string | undefined;
  /** The engine user's /etc/subuid and /etc/subgid entries; undefined when the file is unreadable. */
  subuid: IdRange[] | undefined;
  subgid: IdRange[] | undefined;
  process: EngineProcess | undefined;
  /** RLIMIT_NOFILE of the engine's process (its containers inherit it). */
  nofile: Limit | undefined;
  cgroupV2: EngineCgroupV2 | undefined;
  systemdCgroupV1: EngineSystemdCgroupV1 | undefined;
  /** systemd keeps the user's services after logout (`/var/lib/systemd/linger/<user>`); undefined without systemd. */
  lingering: boolean | undefined;
}

export type EngineHost = { local: false; address: string } | LocalEngineHost;

export interface EngineHostInput {
  connection: Connection;
  engineUid: number | undefined;
  kurUid: number;
  cgroupMode: CgroupMode;
  mounts: MountEntry[];
  selfCgroup: string;
  systemd: boolean;
}

async function readText(fs: PreflightFs, path: string): Promise<string | undefined> {
  return (await fs.readFile(path))?.toString('utf8');
}

/** A pid that names a live process of `uid` (pids wrap: a stale pid file may name anyone). */
async function liveProcessOf(fs: PreflightFs, pid: number, uid: number | undefined): Promise<boolean> {
  const info = await fs.stat(`/proc/${pid}`);
  return info !== undefined && (uid === undefined || info.uid === uid);
}

/** dockerd writes `docker.pid` next to its socket (rootless: in $XDG_RUNTIME_DIR). */
async function fromPidFile(fs: PreflightFs, socketPath: string, uid: number | undefined) {
  const pid = Number((await readText(fs, `${dirname(socketPath)}/docker.pid`))?.trim());
  return Number.isInteger(pid) && pid > 0 && (await liveProcessOf(fs, pid, uid)) ? pid : undefined;
}

/** /run and /var/run name the same directory; /proc/net/unix shows the path the engine bound. */
function pathSpellings(socketPath: string): string[] {
  return [
    socketPath,
    socketPath.replace(/^\/var\/run\//, '/run/'),
    socketPath.replace(/^\/run\//, '/var/run/'),
  ];
}

async function holdsSocket(fs: PreflightFs, pid: string, links: Set<string>): Promise<boolean> {
  const fds = (await fs.readdir(`/proc/${pid}/fd`)) ?? [];
  for (const fd of fds) {
    const target = await fs.readlink(`/proc/${pid}/fd/${fd}`);
    if (target !== undefined && links.has(target)) return true;
  }
  return false;
}

/**
 * The process listening on the socket, found through /proc/net/unix and the fds of the socket
 * owner's processes. Only sockets in kur's network namespace are listed there (rootless Docker
 * serves from RootlessKit's namespace: its pid file finds it instead). A systemd manager
 * holding the socket for socket activation is the last choice.
 */
async function fromSocketListener(fs: PreflightFs, socketPath: string, uid: number | undefined) {
  const netUnix = (await readText(fs, '/proc/net/unix')) ?? '';
  const inodes = pathSpellings(socketPath).flatMap((p) => listeningSocketInodes(netUnix, p));
  if (inodes.length === 0) return undefined;
  const links = new Set(inodes.map((inode) => `socket:[${inode}]`));
  const pids = ((await fs.readdir('/proc')) ?? []).filter((name) => /^\d+$/.test(name));
  const owned = await Promise.all(
    pids.map(async (pid) => {
      const owner = await fs.stat(`/proc/${pid}`);
      if (owner === undefined || (uid !== undefined && owner.uid !== uid)) return undefined;
      return { pid, comm: (await readText(fs, `/proc/${pid}/comm`))?.trim() };
    }),
  );
  const candidates = owned.filter((c): c is { pid: string; comm: string | undefined } => c !== undefined);
  const holding = async (list: typeof candidates) => {
    const held = await Promise.all(
      list.map(async (c) => ((await holdsSocket(fs, c.pid, links)) ? c : undefined)),
    );
    return held.filter((c): c is (typeof candidates)[number] => c !== undefined);
  };
  // The engines' own names first: reading every fd of every process (a few hundred ms as root
  // on a busy host) is needed only when no engine process by those names holds the socket.
  const engines = await holding(candidates.filter((c) => c.comm !== undefined && engineNames.test(c.comm)));
  const found = engines.length > 0 ? engines : await holding(candidates);
  return Number((found.find((c) => c.comm !== 'systemd') ?? found[0])?.pid) || undefined;
}

/** What the engine processes that serve an API socket are called (`comm`). */
const engineNames = /^(dockerd|podman)$/;

async function findEngineProcess(
  fs: PreflightFs,
  socketPath: string,
  uid: number | undefined,
): Promise<EngineProcess | undefined> {
  const byPidFile = await fromPidFile(fs, socketPath, uid);
  if (byPidFile !== undefined) return { pid: byPidFile, foundBy: 'pid-file' };
  const byListener = await fromSocketListener(fs, socketPath, uid);
  return byListener === undefined ? undefined : { pid: byListener, foundBy: 'socket-listener' };
}

async function cgroupV2At(
  fs: PreflightFs,
  path: string,
  foundBy: EngineCgroupV2['foundBy'],
): Promise<EngineCgroupV2> {
  const dir = `${cgroupRoot}${path === '/' ? '' : path}`;
  const [controllers, subtree, info] = await Promise.all([
    readText(fs, `${dir}/cgroup.controllers`),
    readText(fs, `${dir}/cgroup.subtree_control`),
    fs.stat(dir),
  ]);
  return {
    path,
    foundBy,
    controllers: controllers === undefined ? undefined : words(controllers),
    subtreeControl: subtree === undefined ? undefined : words(subtree),
    ownerUid: info?.uid,
  };
}

/**
 * The engine's own cgroup when its process is known; else the systemd user manager's, which
 * is where systemd delegates controllers to a user; else kur's own when kur runs as that user.
 */
async function readCgroupV2(
  fs: PreflightFs,
  input: EngineHostInput,
  uid: number | undefined,
  engineCgroup: string | undefined,
): Promise<EngineCgroupV2 | undefined> {
  const enginePath = engineCgroup === undefined ? undefined : parseProcCgroup(engineCgroup).unified;
  if (enginePath !== undefined) return cgroupV2At(fs, enginePath, 'engine-process');
  if (input.systemd && uid !== undefined) {
    const manager = `/user.slice/user-${uid}.slice/user@${uid}.service`;
    if ((await fs.stat(`${cgroupRoot}${manager}`))?.kind === 'directory')
      return cgroupV2At(fs, manager, 'systemd-user-manager');
  }
  const own = parseProcCgroup(input.selfCgroup).unified;
  if (uid === input.kurUid && own !== undefined) return cgroupV2At(fs, own, 'kur-process');
  return undefined;
}

async function readSystemdCgroupV1(
  fs: PreflightFs,
  input: EngineHostInput,
  uid: number | undefined,
  engineCgroup: string | undefined,
): Promise<EngineSystemdCgroupV1> {
  const mountPoint = v1MountPoint(input.mounts, 'name=systemd');
  const enginePath =
    engineCgroup === undefined ? undefined : parseProcCgroup(engineCgroup).v1['name=systemd'];
  const ownPath = uid === input.kurUid ? parseProcCgroup(input.selfCgroup).v1['name=systemd'] : undefined;
  const path = enginePath ?? ownPath;
  const foundBy =
    enginePath !== undefined ? 'engine-process' : ownPath !== undefined ? 'kur-process' : undefined;
  const info =
    mountPoint === undefined || path === undefined
      ? undefined
      : await fs.stat(`${mountPoint}${path === '/' ? '' : path}`);
  return { mountPoint, path, foundBy, ownerUid: info?.uid };
}

async function readSubIds(fs: PreflightFs, file: string, user: string | undefined, uid: number | undefined) {
  const text = await readText(fs, file);
  if (text === undefined || uid === undefined) return undefined;
  return parseSubIds(text, user, uid);
}

/** Host facts about the engine behind `input.connection`; for a tcp engine, only its address. */
export async function readEngineHost(fs: PreflightFs, input: EngineHostInput): Promise<EngineHost> {
  const { connection } = input;
  if (connection.kind === 'tcp')
    return { local: false, address: `tcp://${connection.host}:${connection.port}` };
  const socketPath = connection.socketPath;
  const socket = await fs.stat(socketPath);
  const uid = input.engineUid ?? socket?.uid;
  const uidSource =
    input.engineUid !== undefined ? 'given' : socket !== undefined ? 'socket-owner' : 'unknown';
  const passwd = await readText(fs, '/etc/passwd');
  const user = uid === undefined || passwd === undefined ? undefined : userNameOf(passwd, uid);
  const engineProcess = await findEngineProcess(fs, socketPath, uid);
  const engineCgroup =
    engineProcess === undefined ? undefined : await readText(fs, `/proc/${engineProcess.pid}/cgroup`);
  const limits =
    engineProcess === undefined ? undefined : await readText(fs, `/proc/${engineProcess.pid}/limits`);
  const [subuid, subgid, cgroupV2, systemdCgroupV1, linger] = await Promise.all([
    readSubIds(fs, '/etc/subuid', user, uid),
    readSubIds(fs, '/etc/subgid', user, uid),
    input.cgroupMode === 'v2' ? readCgroupV2(fs, input, uid, engineCgroup) : undefined,
    input.cgroupMode === 'v1' || input.cgroupMode === 'hybrid'
      ? readSystemdCgroupV1(fs, input, uid, engineCgroup)
      : undefined,
    input.systemd && user !== undefined ? fs.stat(`/var/lib/systemd/linger/${user}`) : undefined,
  ]);
  return {
    local: true,
    socketPath,
    uid,
    uidSource,
    user,
    subuid,
    subgid,
    process: engineProcess,
    nofile: limits === undefined ? undefined : parseNofile(limits),
    cgroupV2,
    systemdCgroupV1,
    lingering: input.systemd && user !== undefined ? linger !== undefined : undefined,
  };
}
