import { constants as fsConstants, promises as fs } from 'node:fs';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { isMap, isScalar, isSeq } from 'yaml';
import type { Node as YamlNode } from 'yaml';
import { PatchError } from '../patch/json.js';
import { isEmptyDocument, parseYamlStream } from '../patch/yaml-text.js';
import { KurError, messageOf } from '../util/errors.js';

/** What the check reads from the host; tests pass fakes. */
export interface KubeconfigCheckHost {
  /** The file's text, or undefined when it does not exist. */
  readFile(path: string): Promise<string | undefined>;
  /** undefined when the path does not exist. */
  stat(path: string): Promise<{ isDirectory: boolean; mtimeMs: number } | undefined>;
  writable(path: string): Promise<boolean>;
  /** Whether a process of this machine with this PID runs. */
  processAlive(pid: number): boolean;
  now(): number;
  hostname: string;
}

/** An empty lock (kubectl's; kubectl holds it for milliseconds) older than this is stale. */
export const emptyLockStaleMs = 60_000;

export interface LockState {
  path: string;
  state: 'live' | 'stale';
  /** Why kur thinks so, for messages: `process 4242 is running`. */
  reason: string;
}

export interface KubeconfigTargetCheck {
  path: string;
  exists: boolean;
  /** A lock held by a running process: kur waits for it when it writes the file. */
  lock: LockState | undefined;
}

/**
 * Checks a kubeconfig target before a cluster is created, so a file kur could not merge into
 * fails in a second instead of after the whole cluster is built: the file (when it exists) must
 * parse as a kubeconfig, the file and its directory (or the nearest existing ancestor) must be
 * writable, and a `<file>.lock` left by a process that has exited is refused with how to clear
 * it. A lock held by a live process is returned, not refused (kur waits for it later).
 * Errors: config (exit 3) for the file and directory, conflict (exit 7) for a stale lock.
 */
export async function checkKubeconfigTarget(
  path: string,
  host: KubeconfigCheckHost = localHost(),
): Promise<KubeconfigTargetCheck> {
  const stat = await host.stat(path);
  if (stat?.isDirectory) {
    throw new KurError('config', `kubeconfig ${path} is a directory`, {
      hint: 'Point --kubeconfig (or KUBECONFIG) at a file.',
    });
  }
  if (stat !== undefined) checkKubeconfigText(path, (await host.readFile(path)) ?? '');
  await checkWritable(path, stat !== undefined, host);
  const lock = await inspectLock(`${path}.lock`, host);
  if (lock?.state === 'stale') {
    throw new KurError('conflict', `kubeconfig lock ${lock.path} is stale: ${lock.reason}`, {
      hint: `No process holds it any more: remove it (rm ${lock.path}) and run kur again.`,
    });
  }
  return { path, exists: stat !== undefined, lock };
}

/** Throws a config error (with the line and column) unless the text is a kubeconfig kur can merge into. */
export function checkKubeconfigText(path: string, text: string): void {
  const fail = (problem: string, pos?: { line: number; col: number }): never => {
    const where = pos === undefined ? path : `${path}:${pos.line}:${pos.col}`;
    throw new KurError('config', `${where}: ${problem}`, {
      hint: `kur merges its context into this file: fix it, move it away, or point --kubeconfig at another file.`,
    });
  };
  let parsed;
  try {
    parsed = parseYamlStream(text);
  } catch (error) {
    if (!(error instanceof PatchError)) throw error;
    return fail(`not a kubeconfig: ${error.message}`, error.position);
  }
  const docs = parsed.docs.filter((d) => !isEmptyDocument(d) || d.errors.length > 0);
  const syntax = docs.flatMap((d) => d.errors)[0];
  if (syntax !== undefined) {
    fail(
      `not a kubeconfig: invalid YAML: ${syntax.message.split('\n')[0]}`,
      parsed.lines.linePos(syntax.pos[0]),
    );
  }
  if (docs.length > 1)
    fail('not a kubeconfig: more than one YAML document', parsed.lines.linePos(docs[1]!.range[0]));
  const root = docs[0]?.contents as YamlNode | null | undefined;
  if (root === undefined || root === null) return; // an empty file: kur writes a new kubeconfig
  const at = (node: YamlNode): { line: number; col: number } => parsed.lines.linePos(node.range?.[0] ?? 0);
  if (!isMap(root))
    return fail('not a kubeconfig: expected a mapping (apiVersion: v1, kind: Config, ...)', at(root));
  for (const pair of root.items) {
    const key = isScalar(pair.key) ? pair.key.value : undefined;
    const value = pair.value as YamlNode | null;
    if (key === 'kind' && !(isScalar(value) && value.value === 'Config')) {
      fail('not a kubeconfig: kind must be Config', value === null ? at(pair.key as YamlNode) : at(value));
    }
    const listed = key === 'clusters' || key === 'contexts' || key === 'users';
    if (listed && value !== null && !isSeq(value) && !(isScalar(value) && value.value === null)) {
      fail(`not a kubeconfig: ${String(key)} must be a list`, at(value));
    }
  }
}

async function checkWritable(path: string, exists: boolean, host: KubeconfigCheckHost): Promise<void> {
  if (exists && !(await host.writable(path))) {
    throw new KurError('config', `kubeconfig ${path} is not writable`, {
      hint: 'Make it writable (chmod u+w), or point --kubeconfig at another file.',
    });
  }
  // The directory, or the nearest ancestor that exists (kur creates the missing ones).
  let dir = dirname(path);
  for (;;) {
    const stat = await host.stat(dir);
    if (stat !== undefined) {
      if (!stat.isDirectory) {
        throw new KurError('config', `cannot write kubeconfig ${path}: ${dir} is not a directory`, {
          hint: 'Point --kubeconfig at a path whose parents are directories.',
        });
      }
      if (!(await host.writable(dir))) {
        throw new KurError('config', `cannot write kubeconfig ${path}: directory ${dir} is not writable`, {
          hint: `kur writes the file next to a lock file and renames it into place: make ${dir} writable, or point --kubeconfig elsewhere.`,
        });
      }
      return;
    }
    const parent = dirname(dir);
    if (parent === dir) return;
    dir = parent;
  }
}

/**
 * What a lock file says about its holder. kur writes `<pid> <hostname>` into its locks: a PID of
 * this machine that no longer runs is stale. An empty lock (kubectl's, which holds it for
 * milliseconds) is stale once older than {@link emptyLockStaleMs}.
 */
export async function inspectLock(
  path: string,
  host: KubeconfigCheckHost = localHost(),
): Promise<LockState | undefined> {
  const stat = await host.stat(path);
  if (stat === undefined) return undefined;
  const text = ((await host.readFile(path)) ?? '').trim();
  const match = /^(\d+)(?:\s+(\S+))?$/.exec(text);
  if (match !== null) {
    const pid = Number(match[1]);
    const machine = match[2];
    if (machine !== undefined && machine !== host.hostname) {
      return {
        path,
        state: 'live',
        reason: `it was taken by process ${pid} on ${machine}, which kur cannot check`,
      };
    }
    return host.processAlive(pid)
      ? { path, state: 'live', reason: `process ${pid} that took it is running` }
      : { path, state: 'stale', reason: `process ${pid} that took it has exited` };
  }
  const ageMs = Math.max(0, host.now() - stat.mtimeMs);
  const age = `${Math.round(ageMs / 1000)} s`;
  return ageMs > emptyLockStaleMs
    ? {
        path,
        state: 'stale',
        reason: `it names no process and is ${age} old (kubectl holds its lock for milliseconds)`,
      }
    : {
        path,
        state: 'live',
        reason: `it names no process and is ${age} old (kubectl may be writing the file)`,
      };
}

/** The real host. */
export function localHost(): KubeconfigCheckHost {
  return {
    readFile: async (path) => {
      try {
        return await fs.readFile(path, 'utf8');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw new KurError('config', `cannot read kubeconfig ${path}: ${messageOf(error)}`);
      }
    },
    stat: async (path) => {
      try {
        const s = await fs.stat(path);
        return { isDirectory: s.isDirectory(), mtimeMs: s.mtimeMs };
      } catch (error) {
        if (['ENOENT', 'ENOTDIR'].includes((error as NodeJS.ErrnoException).code ?? '')) return undefined;
        throw new KurError('config', `cannot read kubeconfig path ${path}: ${messageOf(error)}`);
      }
    },
    writable: async (path) =>
      fs.access(path, fsConstants.W_OK).then(
        () => true,
        () => false,
      ),
    processAlive: (pid) => {
      try {
        process.kill(pid, 0);
        return true;
      } catch (error) {
        return (error as NodeJS.ErrnoException).code === 'EPERM';
      }
    },
    now: () => Date.now(),
    hostname: hostname(),
  };
}
