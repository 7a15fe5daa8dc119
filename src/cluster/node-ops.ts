import type { Readable } from 'node:stream';
import type { Engine, ExecResult } from '../engine/types.js';
import type { PlannedFile } from '../kube/plan.js';
import { readFile as readContainerFile, writeFiles as writeContainerFiles } from '../engine/files.js';
import type { ArchiveEntry } from '../util/archive.js';
import { KurError, isKurError } from '../util/errors.js';
import type { Logger } from '../util/logger.js';

/**
 * Operations on one node container through the engine API: run a command, write files, read
 * the facts its entrypoint recorded, wait for systemd. Steps compose these; none of them
 * derives names or paths on its own.
 */
export interface NodeRef {
  /** Container name (also the node's hostname and Kubernetes node name). */
  name: string;
}

export interface RunOptions {
  stdin?: string | Buffer | Readable;
  timeoutMs?: number;
  env?: Record<string, string>;
  onOutput?: (stream: 'stdout' | 'stderr', chunk: Buffer) => void;
}

/** Runs a command in a node; a non-zero exit is a 'command' error carrying the output. */
export async function run(
  engine: Engine,
  node: NodeRef,
  cmd: string[],
  options: RunOptions = {},
): Promise<string> {
  const result = await engine.containers.exec(node.name, {
    cmd,
    check: true,
    ...(options.stdin !== undefined ? { stdin: options.stdin } : {}),
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    ...(options.env !== undefined ? { env: options.env } : {}),
    ...(options.onOutput !== undefined ? { onOutput: options.onOutput } : {}),
  });
  return result.stdout;
}

/** Runs a command and returns its result whatever the exit code. */
export function tryRun(
  engine: Engine,
  node: NodeRef,
  cmd: string[],
  timeoutMs?: number,
): Promise<ExecResult> {
  return engine.containers.exec(node.name, { cmd, ...(timeoutMs !== undefined ? { timeoutMs } : {}) });
}

/** Writes files (absolute paths, explicit modes) into a node in one archive upload. */
export async function writeFiles(
  engine: Engine,
  node: NodeRef,
  files: readonly PlannedFile[],
): Promise<void> {
  const entries: ArchiveEntry[] = [];
  const dirs = new Set<string>();
  for (const file of files) {
    // Parent directories first, so the engine does not invent their modes.
    const parts = file.path.split('/').filter((p) => p !== '');
    for (let i = 1; i < parts.length; i += 1) {
      const dir = parts.slice(0, i).join('/');
      if (!dirs.has(dir)) {
        dirs.add(dir);
        entries.push({ type: 'directory', path: dir, mode: 0o755 });
      }
    }
    entries.push({ type: 'file', path: parts.join('/'), content: file.content, mode: file.mode });
  }
  await writeContainerFiles(engine, node.name, entries);
}

/** Reads one small text file out of a node. */
export async function readFile(engine: Engine, node: NodeRef, path: string): Promise<string> {
  return (await readContainerFile(engine, node.name, path)).toString('utf8');
}

export interface WaitOptions {
  timeoutMs: number;
  signal?: AbortSignal;
  logger: Logger;
}

/**
 * Waits until systemd in the node reports `running` (or `degraded`: a unit kur does not need
 * failed; the units kur needs are checked by the steps that use them). Fails early, with the
 * container's log, when the container stops: the entrypoint says why.
 */
export async function waitForSystemd(engine: Engine, node: NodeRef, options: WaitOptions): Promise<string> {
  const deadline = Date.now() + options.timeoutMs;
  let last: string;
  for (let attempt = 0; ; attempt += 1) {
    options.signal?.throwIfAborted();
    const info = await engine.containers.inspect(node.name);
    if (!info.state.running) {
      const logs = await engine.containers.logs(node.name, { tail: 60 }).catch(() => undefined);
      throw new KurError(
        'command',
        `node ${node.name} stopped while booting (exit code ${info.state.exitCode})`,
        {
          detail: logs === undefined ? info.state.error : `${logs.stdout}${logs.stderr}`,
          hint: 'The lines from kur-entrypoint above say which step failed; `kur info` shows what the engine allows.',
        },
      );
    }
    try {
      const result = await tryRun(engine, node, ['systemctl', 'is-system-running'], 10_000);
      last = result.stdout.trim();
      if (last === 'running' || last === 'degraded') return last;
    } catch (error) {
      // systemd may not be answering on its bus yet; keep polling until the deadline.
      if (!isKurError(error)) throw error;
      last = error.message;
    }
    if (Date.now() > deadline) {
      throw new KurError('timeout', `systemd in node ${node.name} did not finish booting (state: ${last})`, {
        hint: `Look at \`journalctl\` in the node, or retry with --retain and inspect it.`,
      });
    }
    await new Promise((resolve) => setTimeout(resolve, Math.min(100 + attempt * 50, 500)));
  }
}
