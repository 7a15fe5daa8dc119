/**
 * Pure readers of the text files preflight looks at (/proc, /etc/subuid, kernel config), so
 * each format is tested on its own and readHostState stays a list of file reads.
 */

/** A resource limit; `unlimited` is kept as a word because JSON has no Infinity. */
export type LimitValue = number | 'unlimited';

export interface Limit {
  soft: LimitValue;
  hard: LimitValue;
}

function limitValue(word: string): LimitValue | undefined {
  if (word === 'unlimited') return 'unlimited';
  return /^\d+$/.test(word) ? Number(word) : undefined;
}

/** The `Max open files` row of /proc/<pid>/limits. */
export function parseNofile(limits: string): Limit | undefined {
  const row = limits.split('\n').find((line) => line.startsWith('Max open files'));
  const words = row?.slice('Max open files'.length).trim().split(/\s+/) ?? [];
  const soft = limitValue(words[0] ?? '');
  const hard = limitValue(words[1] ?? '');
  return soft === undefined || hard === undefined ? undefined : { soft, hard };
}

export interface ProcCgroups {
  /** The unified (`0::`) path; on a hybrid host it is the cgroup2 hierarchy's. */
  unified: string | undefined;
  /** v1 hierarchies: `cpu,cpuacct` or `name=systemd` -> path. */
  v1: Record<string, string>;
}

/** /proc/<pid>/cgroup: `hierarchy-ID:controllers:path` per line. */
export function parseProcCgroup(text: string): ProcCgroups {
  const result: ProcCgroups = { unified: undefined, v1: {} };
  for (const line of text.split('\n')) {
    const match = /^(\d+):([^:]*):(.*)$/.exec(line.trim());
    if (match === null) continue;
    const [, id, controllers, path] = match as unknown as [string, string, string, string];
    if (id === '0' && controllers === '') result.unified = path;
    else result.v1[controllers] = path;
  }
  return result;
}

export interface MountEntry {
  source: string;
  target: string;
  type: string;
  options: string[];
}

/** /proc/self/mounts (octal escapes such as `\040` for spaces are decoded). */
export function parseMounts(text: string): MountEntry[] {
  const decode = (field: string): string =>
    field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
  return text
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter((fields) => fields.length >= 4)
    .map(([source, target, type, options]) => ({
      source: decode(source!),
      target: decode(target!),
      type: type!,
      options: options!.split(','),
    }));
}

export type CgroupMode = 'v2' | 'hybrid' | 'v1' | 'none';

export const cgroupRoot = '/sys/fs/cgroup';

/**
 * systemd's three layouts: unified (cgroup2 on /sys/fs/cgroup), hybrid (v1 controllers plus a
 * cgroup2 tree on /sys/fs/cgroup/unified) and legacy (v1 only).
 */
export function cgroupModeOf(mounts: MountEntry[]): CgroupMode {
  const v2 = mounts.filter((m) => m.type === 'cgroup2');
  const v1 = mounts.filter((m) => m.type === 'cgroup');
  if (v2.some((m) => m.target === cgroupRoot)) return 'v2';
  if (v1.length > 0) return v2.length > 0 ? 'hybrid' : 'v1';
  return v2.length > 0 ? 'v2' : 'none';
}

/** Where the v1 hierarchy with `option` (a controller or `name=systemd`) is mounted. */
export function v1MountPoint(mounts: MountEntry[], option: string): string | undefined {
  return mounts.find((m) => m.type === 'cgroup' && m.options.includes(option))?.target;
}

export interface IdRange {
  start: number;
  count: number;
}

/** The /etc/subuid or /etc/subgid entries (`user:start:count`) of a user, by name or by uid. */
export function parseSubIds(text: string, user: string | undefined, uid: number): IdRange[] {
  const owners = new Set([String(uid), ...(user === undefined ? [] : [user])]);
  const ranges: IdRange[] = [];
  for (const line of text.split('\n')) {
    const [owner, start, count] = line.trim().split(':');
    if (owner === undefined || !owners.has(owner)) continue;
    const range = { start: Number(start), count: Number(count) };
    if (Number.isInteger(range.start) && Number.isInteger(range.count)) ranges.push(range);
  }
  return ranges;
}

/** The login name of `uid` in /etc/passwd. */
export function userNameOf(passwd: string, uid: number): string | undefined {
  for (const line of passwd.split('\n')) {
    const [name, , id] = line.split(':');
    if (name !== undefined && name !== '' && id === String(uid)) return name;
  }
  return undefined;
}

/** `CONFIG_X=y|m|value` lines; `# CONFIG_X is not set` and absent options read as not set. */
export function parseKernelConfig(text: string): Map<string, string> {
  const options = new Map<string, string>();
  for (const line of text.split('\n')) {
    const match = /^(CONFIG_[A-Za-z0-9_]+)=(.*)$/.exec(line.trim());
    if (match !== null) options.set(match[1]!, match[2]!);
  }
  return options;
}

/** Module names compare with `-` and `_` as one character, as modprobe does. */
export function moduleName(name: string): string {
  return name.replace(/-/g, '_');
}

/** Loaded modules: the first word of each /proc/modules line. */
export function parseLoadedModules(text: string): Set<string> {
  return new Set(
    text
      .split('\n')
      .map((line) => line.split(' ')[0] ?? '')
      .filter((name) => name !== '')
      .map(moduleName),
  );
}

/** Module names from modules.builtin or modules.dep lines (`kernel/.../vxlan.ko.xz: deps`). */
export function parseModulePaths(text: string): Set<string> {
  const names = new Set<string>();
  for (const line of text.split('\n')) {
    const path = line.split(':')[0]?.trim() ?? '';
    const match = /([^/]+)\.ko(\.[a-z]+)?$/.exec(path);
    if (match !== null) names.add(moduleName(match[1]!));
  }
  return names;
}

/** `6.8.0-31-generic` -> [6, 8]. */
export function kernelVersion(release: string): [number, number] | undefined {
  const match = /^(\d+)\.(\d+)/.exec(release);
  return match === null ? undefined : [Number(match[1]), Number(match[2])];
}

export function kernelAtLeast(release: string, major: number, minor: number): boolean | undefined {
  const version = kernelVersion(release);
  if (version === undefined) return undefined;
  return version[0] > major || (version[0] === major && version[1] >= minor);
}

/**
 * Inodes of sockets listening on `path` in /proc/net/unix
 * (`Num RefCount Protocol Flags Type St Inode Path`; flag 00010000 marks a listening socket).
 */
export function listeningSocketInodes(netUnix: string, path: string): string[] {
  const inodes: string[] = [];
  for (const line of netUnix.split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 8 || fields.slice(7).join(' ') !== path) continue;
    if ((parseInt(fields[3]!, 16) & 0x10000) !== 0) inodes.push(fields[6]!);
  }
  return inodes;
}

/** A `/proc/sys` value as an integer. */
export function parseInteger(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text.trim());
  return text.trim() !== '' && Number.isInteger(value) ? value : undefined;
}

export function words(text: string | undefined): string[] {
  return (text ?? '').split(/\s+/).filter((w) => w !== '');
}
