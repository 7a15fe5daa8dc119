import { execFileSync, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { E2eRun } from './clusters.js';

export const projectRoot = fileURLToPath(new URL('../..', import.meta.url));

export interface KurRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== 'testdata') newest = Math.max(newest, newestSource(path));
    } else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts')) {
      newest = Math.max(newest, statSync(path).mtimeMs);
    }
  }
  return newest;
}

/** Builds dist/ when it is missing or older than src/, so `node bin/kur.js` runs the code under test. */
export function ensureBuilt(): void {
  let built: number;
  try {
    built = statSync(join(projectRoot, 'dist', 'cli', 'main.js')).mtimeMs;
  } catch {
    built = 0;
  }
  if (built >= newestSource(join(projectRoot, 'src'))) return;
  execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: projectRoot, stdio: 'inherit' });
}

/** Runs the built CLI (`node bin/kur.js ...`) the way a user does. */
export function runKur(args: string[], options: SpawnOptions = {}): Promise<KurRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(projectRoot, 'bin', 'kur.js'), ...args], {
      cwd: projectRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
      ...options,
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

export function describeRun(result: KurRun): string {
  return `exit code ${result.code}\n--- stdout\n${result.stdout}--- stderr\n${result.stderr}`;
}

export function expectSuccess(result: KurRun, what: string): void {
  if (result.code !== 0) throw new Error(`${what} failed: ${describeRun(result)}`);
}

/** stdout as one JSON document: with -o json nothing else may be on stdout. */
export function parseJson<T>(result: KurRun, what: string): T {
  try {
    return JSON.parse(result.stdout) as T;
  } catch (error) {
    throw new Error(`${what}: stdout is not one JSON document (${String(error)}): ${describeRun(result)}`, {
      cause: error,
    });
  }
}

export interface RunningKur {
  child: ChildProcess;
  /** stdout and stderr so far, interleaved as they arrived. */
  output(): string;
  /** Resolves once the output matches; rejects when kur exits first or the time is up. */
  waitForOutput(pattern: RegExp, timeoutMs: number): Promise<void>;
  done: Promise<KurRun>;
}

/** Starts `kur --host <engine> ...args` and hands back the process, for tests that signal it. */
export function startKur(run: E2eRun, args: string[]): RunningKur {
  const child = spawn(
    process.execPath,
    [join(projectRoot, 'bin', 'kur.js'), '--host', run.target.host, ...args],
    {
      cwd: projectRoot,
      env: run.kurEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  let both = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    both += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    both += chunk.toString();
  });
  const done = new Promise<KurRun>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
  const waitForOutput = (pattern: RegExp, timeoutMs: number): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      const finish = (error?: Error): void => {
        clearTimeout(timer);
        child.stdout?.off('data', check);
        child.stderr?.off('data', check);
        if (error === undefined) resolve();
        else reject(error);
      };
      const check = (): void => {
        if (pattern.test(both)) finish();
      };
      const timer = setTimeout(
        () => finish(new Error(`kur did not print ${String(pattern)} in ${timeoutMs / 1000} s:\n${both}`)),
        timeoutMs,
      );
      child.stdout?.on('data', check);
      child.stderr?.on('data', check);
      void done.then((result) =>
        finish(new Error(`kur exited before printing ${String(pattern)}: ${describeRun(result)}`)),
      );
      check();
    });
  return { child, output: () => both, waitForOutput, done };
}
