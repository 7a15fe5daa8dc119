import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * The runner's side of the file commands (GITHUB_OUTPUT, GITHUB_ENV, GITHUB_STATE), for tests that
 * play the runner: `name=value` lines and `name<<DELIMITER` blocks; a later value of a name wins.
 */
export function parseFileCommands(text: string): Record<string, string> {
  const values: Record<string, string> = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === '') continue;
    const heredoc = /^([^=]+?)<<(.+)$/.exec(line);
    if (heredoc !== null) {
      const end = lines.indexOf(heredoc[2]!, i + 1);
      if (end < 0) throw new Error(`unterminated ${heredoc[1]}`);
      values[heredoc[1]!] = lines.slice(i + 1, end).join('\n');
      i = end;
    } else {
      const eq = line.indexOf('=');
      values[line.slice(0, eq)] = line.slice(eq + 1);
    }
  }
  return values;
}

export interface StepRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Plays the GitHub runner for one job: a workspace, RUNNER_TEMP, the four command files, inputs as
 * `INPUT_<NAME>`, and for the post step the main step's saved state as `STATE_<name>`.
 */
export class FakeRunner {
  readonly dir: string;
  readonly workspace: string;
  readonly temp: string;
  readonly home: string;
  readonly files: Record<'GITHUB_OUTPUT' | 'GITHUB_ENV' | 'GITHUB_STATE' | 'GITHUB_PATH', string>;

  constructor(prefix: string) {
    this.dir = mkdtempSync(join(tmpdir(), `${prefix}-`));
    this.workspace = join(this.dir, 'workspace');
    this.temp = join(this.dir, 'runner-temp');
    this.home = join(this.dir, 'home');
    for (const d of [this.workspace, this.temp, this.home]) mkdirSync(d);
    this.files = {
      GITHUB_OUTPUT: join(this.dir, 'output'),
      GITHUB_ENV: join(this.dir, 'env'),
      GITHUB_STATE: join(this.dir, 'state'),
      GITHUB_PATH: join(this.dir, 'path'),
    };
  }

  private read(file: string): string {
    return existsSync(file) ? readFileSync(file, 'utf8') : '';
  }

  outputs(): Record<string, string> {
    return parseFileCommands(this.read(this.files.GITHUB_OUTPUT));
  }

  exported(): Record<string, string> {
    return parseFileCommands(this.read(this.files.GITHUB_ENV));
  }

  state(): Record<string, string> {
    return parseFileCommands(this.read(this.files.GITHUB_STATE));
  }

  paths(): string[] {
    return this.read(this.files.GITHUB_PATH)
      .split('\n')
      .filter((l) => l !== '');
  }

  /** The environment of a step: the host's (no engine or kubeconfig variables), the runner's, the inputs. */
  env(inputs: Record<string, string>, step: 'main' | 'post'): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = { ...process.env };
    for (const name of ['KUR_HOST', 'DOCKER_HOST', 'CONTAINER_HOST', 'KUBECONFIG', 'KUR_PROVIDER'])
      delete env[name];
    Object.assign(env, {
      HOME: this.home,
      XDG_CACHE_HOME: process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'),
      GITHUB_ACTIONS: 'true',
      CI: 'true',
      GITHUB_WORKSPACE: this.workspace,
      RUNNER_TEMP: this.temp,
      ...this.files,
    });
    for (const [name, value] of Object.entries(inputs)) env[`INPUT_${name.toUpperCase()}`] = value;
    if (step === 'post') {
      for (const [name, value] of Object.entries(this.state())) env[`STATE_${name}`] = value;
    }
    return env;
  }

  /** Starts `node <entry>` in the workspace, as the runner starts an action's main or post. */
  start(entry: string, inputs: Record<string, string>, step: 'main' | 'post'): RunningStep {
    const child = spawn(process.execPath, [entry], {
      cwd: this.workspace,
      env: this.env(inputs, step),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const done = new Promise<StepRun>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
    return { child, stdout: () => stdout, done };
  }

  run(entry: string, inputs: Record<string, string>, step: 'main' | 'post'): Promise<StepRun> {
    return this.start(entry, inputs, step).done;
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export interface RunningStep {
  child: ChildProcess;
  stdout(): string;
  done: Promise<StepRun>;
}

export function describeStep(result: StepRun): string {
  return `exit code ${result.code}\n--- stdout\n${result.stdout}--- stderr\n${result.stderr}`;
}
