import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import type { Engine } from '../../src/engine/types.js';
import { readEntries } from '../../src/util/archive.js';

/**
 * kubectl on the host, taken out of the node image the cluster runs (so its version always
 * matches the API server and nothing is downloaded), then run against the kubeconfig kur wrote,
 * the way a user would.
 */
export const nodeKubectlPath = '/usr/local/bin/kubectl';

let cacheDir: string | undefined;
const extracted = new Map<string, Promise<string>>();

function runCacheDir(): string {
  if (cacheDir === undefined) {
    cacheDir = mkdtempSync(join(tmpdir(), 'kur-e2e-kubectl-'));
    const dir = cacheDir;
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  }
  return cacheDir;
}

/**
 * Copies kubectl out of a node container into a temp dir kept for the whole run (once per node
 * image). The image may ship it as a symlink to a multi-call binary: the link is followed and the
 * target saved under the name `kubectl`, which is what such a binary dispatches on.
 */
export function hostKubectl(engine: Engine, container: string): Promise<string> {
  return (async () => {
    const imageId = (await engine.containers.inspect(container)).imageId;
    let pending = extracted.get(imageId);
    if (pending === undefined) {
      pending = extract(engine, container, imageId);
      extracted.set(imageId, pending);
      pending.catch(() => extracted.delete(imageId));
    }
    return pending;
  })();
}

async function extract(engine: Engine, container: string, imageId: string): Promise<string> {
  let path = nodeKubectlPath;
  for (let hops = 0; hops < 10; hops += 1) {
    const entries = await readEntries(
      await engine.containers.getArchive(container, path),
      1024 * 1024 * 1024,
    );
    const entry = entries[0];
    if (entries.length !== 1 || entry === undefined) {
      throw new Error(`${path} in ${container} is not a single file (${entries.length} archive entries)`);
    }
    if (entry.type === 'symlink' && entry.linkname !== undefined) {
      path = posix.resolve(posix.dirname(path), entry.linkname);
      continue;
    }
    if (entry.type !== 'file') throw new Error(`${path} in ${container} is a ${entry.type}, not a file`);
    const target = join(runCacheDir(), imageId.replace(/[^a-zA-Z0-9]/g, '_'));
    const binary = join(target, 'kubectl');
    rmSync(target, { recursive: true, force: true });
    mkdirSync(target);
    writeFileSync(binary, entry.content, { flag: 'wx', mode: 0o755 });
    chmodSync(binary, 0o755);
    return binary;
  }
  throw new Error(`${nodeKubectlPath} in ${container}: too many symlinks`);
}

export interface CommandResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface KubectlOptions {
  stdin?: string;
  timeoutMs?: number;
}

/** kubectl bound to one kubeconfig file and context, as a user of the cluster runs it. */
export class Kubectl {
  constructor(
    readonly binary: string,
    readonly kubeconfig: string,
    readonly context: string,
  ) {}

  private args(args: string[]): string[] {
    return [`--kubeconfig=${this.kubeconfig}`, `--context=${this.context}`, ...args];
  }

  /** Runs kubectl and returns whatever it did; a run past the timeout is killed (code null). */
  run(args: string[], options: KubectlOptions = {}): Promise<CommandResult> {
    return new Promise((resolve, reject) => {
      const child = spawn(this.binary, this.args(args), {
        stdio: [options.stdin !== undefined ? 'pipe' : 'ignore', 'pipe', 'pipe'],
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: tmpdir() },
      });
      let stdout = '';
      let stderr = '';
      const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
      child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.on('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr });
      });
      if (options.stdin !== undefined) child.stdin?.end(options.stdin);
    });
  }

  /** Runs kubectl and fails with its output unless it exits 0. */
  async ok(args: string[], options: KubectlOptions = {}): Promise<string> {
    const result = await this.run(args, options);
    if (result.code !== 0) {
      throw new Error(
        `kubectl ${args.join(' ')} exited ${result.code ?? 'by timeout'}\n${result.stdout}${result.stderr}`,
      );
    }
    return result.stdout;
  }

  async json<T>(args: string[]): Promise<T> {
    return JSON.parse(await this.ok([...args, '-o', 'json'])) as T;
  }

  /** `kubectl apply` of objects given as data (JSON is YAML). */
  async apply(objects: object[]): Promise<void> {
    await this.ok(['apply', '-f', '-'], {
      stdin: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }),
    });
  }

  /** Starts a long-running kubectl (port-forward); the caller kills it. */
  start(args: string[]): ChildProcess {
    return spawn(this.binary, this.args(args), {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: tmpdir() },
    });
  }
}
