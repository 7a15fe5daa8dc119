import { promises as fs } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { cachedEntry, cacheKey, cacheRoot, sha256File } from '../util/cache.js';
import { KurError, messageOf } from '../util/errors.js';
import type { Logger } from '../util/logger.js';

/**
 * The node image's bottom layer: a Debian root filesystem built by mmdebstrap from the package
 * list in images/base, with images/base/customize.sh applied, as an uncompressed tarball.
 * Reproducible (mmdebstrap gives bit-identical output for the same options and mirror content
 * when SOURCE_DATE_EPOCH is set) and cached under `<kur cache>/base/<key>.tar`.
 */

/** Runs a program; rejects with `code: 'ENOENT'` when it does not exist, resolves otherwise. */
export type ExecFn = (
  file: string,
  args: readonly string[],
  options: { env: Record<string, string> },
) => Promise<{ exitCode: number; stdout: string; stderr: string }>;

export type MmdebstrapMode = 'auto' | 'root' | 'unshare';

export interface BaseRootfsOptions {
  logger: Logger;
  /** Debian suite; the package list is written for bookworm. */
  suite?: string;
  /**
   * apt sources as one-line entries (`deb URI SUITE COMPONENTS`). Default: the host's Debian
   * sources for the suite (so a host pointed at a mirror or snapshot builds from it), else
   * deb.debian.org.
   */
  sources?: readonly string[];
  /** `root` needs uid 0; `unshare` needs /etc/subuid ranges; `auto` picks by the current uid. */
  mode?: MmdebstrapMode;
  /** Where images/base lives (default: the one shipped with kur). */
  baseDir?: string;
  /** Timestamp every file is clamped to. Part of the cache key. */
  sourceDateEpoch?: number;
  env?: NodeJS.ProcessEnv;
  home?: string;
  uid?: number;
  arch?: string;
  exec?: ExecFn;
  /** Reads the host's apt sources (injected for tests). */
  readHostSources?: () => Promise<string | undefined>;
}

export interface BaseRootfs {
  /** The tarball. Never modify it: it is the cache entry. */
  path: string;
  key: string;
  /** True when it came from the cache. */
  cached: boolean;
  sizeBytes: number;
  sha256: string;
  packages: string[];
  sources: string[];
  mmdebstrapVersion: string;
}

/** 2025-05-20T00:00:00Z: the date of the Debian snapshot the development hosts mirror. */
export const BASE_SOURCE_DATE_EPOCH = 1747699200;
export const DEFAULT_SUITE = 'bookworm';
const HOST_SOURCES = '/etc/apt/sources.list.d/debian.sources';

/** Files and directories no node needs (documentation, translations); copyright files stay. */
const DPKG_PATH_FILTERS = [
  'path-exclude=/usr/share/man/*',
  'path-exclude=/usr/share/info/*',
  'path-exclude=/usr/share/doc/*',
  'path-include=/usr/share/doc/*/copyright',
  'path-exclude=/usr/share/locale/*',
  'path-include=/usr/share/locale/locale.alias',
  'path-exclude=/usr/share/lintian/*',
  'path-exclude=/usr/share/zsh/*',
  'path-exclude=/usr/share/bash-completion/*',
  // iconv modules for legacy charsets; nothing on a node converts text.
  'path-exclude=/usr/lib/*/gconv/*',
];

// Sets up merged /usr with the usr-is-merged marker, so apt does not pull in the usrmerge package
// and with it all of Perl (55 MB, measured).
const MERGED_USR_HOOKS = '/usr/share/mmdebstrap/hooks/merged-usr';

const MMDEBSTRAP_FIX =
  'Install it with `sudo apt-get install mmdebstrap` (Debian, Ubuntu; the package is also in Fedora and Arch). ' +
  'Run kur as root, or as a user with /etc/subuid and /etc/subgid ranges (mode unshare, needs the uidmap package).';

export function defaultBaseDir(): string {
  // src/nodeimage (tsx) and dist/nodeimage (built) both sit two levels below the package root.
  return fileURLToPath(new URL('../../images/base/', import.meta.url));
}

/** Package names from a list file: one per line, `#` comments, blank lines ignored. */
export function parsePackageList(text: string): string[] {
  const packages: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*$/, '').trim();
    if (line === '') continue;
    if (!/^[a-z0-9][a-z0-9+.-]*$/.test(line)) {
      throw new KurError('build', `invalid package name in the base package list: "${line}"`);
    }
    packages.push(line);
  }
  return packages;
}

/**
 * One-line apt entries for `suite` from a deb822 sources file (the stanzas for the suite, its
 * -updates and -security), main component only. Undefined when the file has none for the suite.
 */
export function sourcesFromDeb822(text: string, suite: string): string[] | undefined {
  const wanted = new Set([suite, `${suite}-updates`, `${suite}-security`]);
  const lines: string[] = [];
  for (const stanza of text.split(/\n\s*\n/)) {
    const fields = new Map<string, string>();
    let last: string | undefined;
    for (const line of stanza.split('\n')) {
      if (line.startsWith('#') || line.trim() === '') continue;
      if (/^\s/.test(line) && last !== undefined) {
        fields.set(last, `${fields.get(last) ?? ''} ${line.trim()}`);
        continue;
      }
      const match = /^([A-Za-z-]+):\s*(.*)$/.exec(line);
      if (match?.[1] === undefined) continue;
      last = match[1].toLowerCase();
      fields.set(last, match[2] ?? '');
    }
    if (fields.get('enabled')?.trim().toLowerCase() === 'no') continue;
    const words = (key: string): string[] => (fields.get(key) ?? '').split(/\s+/).filter((w) => w !== '');
    if (!words('types').includes('deb')) continue;
    if (!words('components').includes('main')) continue;
    for (const uri of words('uris')) {
      for (const s of words('suites')) {
        if (wanted.has(s)) lines.push(`deb ${uri} ${s} main`);
      }
    }
  }
  return lines.length > 0 ? lines : undefined;
}

export function defaultSources(suite: string): string[] {
  return [
    `deb http://deb.debian.org/debian ${suite} main`,
    `deb http://deb.debian.org/debian ${suite}-updates main`,
    `deb http://deb.debian.org/debian-security ${suite}-security main`,
  ];
}

function debianArch(nodeArch: string): string {
  const map: Record<string, string> = {
    x64: 'amd64',
    arm64: 'arm64',
    arm: 'armhf',
    ppc64: 'ppc64el',
    s390x: 's390x',
  };
  const arch = map[nodeArch];
  if (arch === undefined) throw new KurError('build', `no Debian architecture for ${nodeArch}`);
  return arch;
}

/** mmdebstrap's arguments, minus the output path (which must not change the cache key). */
export function mmdebstrapArgs(input: {
  mode: 'root' | 'unshare';
  suite: string;
  arch: string;
  packages: readonly string[];
  sources: readonly string[];
  customizeHook: string;
}): string[] {
  return [
    `--mode=${input.mode}`,
    '--variant=essential',
    '--format=tar',
    `--architectures=${input.arch}`,
    `--include=${input.packages.join(',')}`,
    '--aptopt=Apt::Install-Recommends "false"',
    '--aptopt=Acquire::Languages "none"',
    ...DPKG_PATH_FILTERS.map((f) => `--dpkgopt=${f}`),
    `--hook-dir=${MERGED_USR_HOOKS}`,
    // The hook's text, not its path: in unshare mode the unshared user may not be able to read
    // kur's installation directory. mmdebstrap runs it with sh, the root filesystem as $1.
    `--customize-hook=${input.customizeHook}`,
    input.suite,
  ];
}

const defaultExec: ExecFn = async (file, args, options) => {
  const result = await execa(file, args, {
    env: options.env,
    extendEnv: true,
    reject: false,
    stdin: 'ignore',
  });
  if (result.code === 'ENOENT') {
    throw Object.assign(new Error(`${file}: not found`), { code: 'ENOENT' });
  }
  return {
    exitCode: result.exitCode ?? 1,
    stdout: typeof result.stdout === 'string' ? result.stdout : '',
    stderr: typeof result.stderr === 'string' ? result.stderr : '',
  };
};

async function readFileIfExists(path: string): Promise<string | undefined> {
  try {
    return await fs.readFile(path, 'utf8');
  } catch {
    return undefined;
  }
}

function tail(text: string, lines = 40): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

/** mmdebstrap's version (part of the cache key); a missing mmdebstrap is a KurError with the fix. */
async function mmdebstrapVersion(exec: ExecFn): Promise<string> {
  try {
    const result = await exec('mmdebstrap', ['--version'], { env: {} });
    // mmdebstrap prints its version on stderr.
    return `${result.stdout}\n${result.stderr}`.match(/mmdebstrap\s+(\S+)/)?.[1] ?? 'unknown';
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new KurError('build', 'mmdebstrap is not installed: it builds the node base filesystem', {
        hint: MMDEBSTRAP_FIX,
      });
    }
    throw new KurError('build', `cannot run mmdebstrap: ${messageOf(error)}`, {
      hint: MMDEBSTRAP_FIX,
      cause: error,
    });
  }
}

/** Builds (or finds in the cache) the base root filesystem tarball. */
export async function buildBaseRootfs(options: BaseRootfsOptions): Promise<BaseRootfs> {
  const { logger } = options;
  const exec = options.exec ?? defaultExec;
  const env = options.env ?? process.env;
  const suite = options.suite ?? DEFAULT_SUITE;
  const baseDir = options.baseDir ?? defaultBaseDir();
  const uid = options.uid ?? process.getuid?.() ?? 0;
  const epoch = options.sourceDateEpoch ?? BASE_SOURCE_DATE_EPOCH;
  const mode =
    options.mode === undefined || options.mode === 'auto' ? (uid === 0 ? 'root' : 'unshare') : options.mode;
  if (mode === 'root' && uid !== 0) {
    throw new KurError('build', 'mmdebstrap mode "root" needs root', {
      hint: 'Run as root, or use mode "unshare".',
    });
  }

  const version = await mmdebstrapVersion(exec);

  const [listText, customizeHook] = await Promise.all([
    fs.readFile(join(baseDir, 'packages.txt'), 'utf8'),
    fs.readFile(join(baseDir, 'customize.sh'), 'utf8'),
  ]);
  const packages = parsePackageList(listText);
  let sources = options.sources === undefined ? undefined : [...options.sources];
  if (sources === undefined) {
    const hostText = await (options.readHostSources ?? (() => readFileIfExists(HOST_SOURCES)))();
    sources =
      (hostText === undefined ? undefined : sourcesFromDeb822(hostText, suite)) ?? defaultSources(suite);
  }
  const arch = debianArch(options.arch ?? process.arch);
  const args = mmdebstrapArgs({ mode, suite, arch, packages, sources, customizeHook });

  // The mode is left out of the key: mmdebstrap's root and unshare modes give identical tarballs.
  const key = cacheKey(
    'base-rootfs/v1',
    `mmdebstrap ${version}`,
    `epoch ${epoch}`,
    ...args.filter((a) => !a.startsWith('--mode=')),
    ...sources,
  );
  const path = join(cacheRoot(env, options.home ?? homedir()), 'base', `${key}.tar`);
  const started = Date.now();
  const entry = await cachedEntry(path, async (temp) => {
    logger.info(
      `Building the Debian ${suite} base filesystem with mmdebstrap (${packages.length} packages, about a minute)`,
    );
    const shown = args.map((a) =>
      a.startsWith('--customize-hook=') ? '--customize-hook=<customize.sh>' : a,
    );
    logger.debug(`mmdebstrap ${shown.join(' ')} ${temp} ${sources.join(' | ')}`);
    await runMmdebstrap(exec, [...args, temp, ...sources], { epoch, mode, temp });
  });
  const stat = await fs.stat(entry.path);
  if (entry.hit) {
    logger.debug(`base filesystem from the cache: ${entry.path}`);
  } else {
    logger.info(`Base filesystem built in ${((Date.now() - started) / 1000).toFixed(1)}s (${mb(stat.size)})`);
  }
  return {
    path: entry.path,
    key,
    cached: entry.hit,
    sizeBytes: stat.size,
    sha256: await sha256File(entry.path),
    packages,
    sources,
    mmdebstrapVersion: version,
  };
}

/** One mmdebstrap run writing `temp`; failures carry its output's tail and the likely fix. */
async function runMmdebstrap(
  exec: ExecFn,
  args: string[],
  { epoch, mode, temp }: { epoch: number; mode: 'root' | 'unshare'; temp: string },
): Promise<void> {
  const result = await exec('mmdebstrap', args, {
    env: { SOURCE_DATE_EPOCH: String(epoch) },
  });
  if (result.exitCode !== 0) {
    const output = `${result.stdout}\n${result.stderr}`;
    throw new KurError(
      'build',
      `mmdebstrap failed (exit ${result.exitCode}) building the node base filesystem`,
      {
        detail: tail(output),
        hint: hintFor(output, mode),
      },
    );
  }
  // mmdebstrap reports success only after writing; an empty file still means something broke.
  const stat = await fs.stat(temp).catch(() => undefined);
  if (stat === undefined || stat.size === 0) {
    throw new KurError('build', 'mmdebstrap exited 0 but wrote no tarball', {
      detail: tail(result.stderr),
    });
  }
}

function hintFor(output: string, mode: 'root' | 'unshare'): string {
  if (mode === 'unshare' && /subuid|subgid|newuidmap|unshare/i.test(output)) {
    return (
      'mmdebstrap --mode=unshare needs unprivileged user namespaces, the uidmap package (newuidmap) and ' +
      'ranges for your user in /etc/subuid and /etc/subgid (`sudo usermod --add-subuids 100000-165535 ' +
      '--add-subgids 100000-165535 $USER`); or run as root.'
    );
  }
  if (
    /Temporary failure resolving|Could not resolve|Failed to fetch|Unable to connect|apt-get update failed/i.test(
      output,
    )
  ) {
    return 'apt could not reach the Debian mirror. Check the network, or pass sources that point at a reachable mirror.';
  }
  return 'See the mmdebstrap output above.';
}

function mb(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}
