import { randomUUID } from 'node:crypto';
import { appendFileSync } from 'node:fs';
import type { ProgressEvent } from '../ui/progress.js';
import { formatDuration } from '../util/duration.js';
import { isKurError, messageOf } from '../util/errors.js';
import type { Logger, LogSink } from '../util/logger.js';

/**
 * The runner's side of a JavaScript action, without the Actions toolkit: inputs arrive as
 * `INPUT_<NAME>` variables, results go out through the files named by `GITHUB_OUTPUT`,
 * `GITHUB_ENV`, `GITHUB_STATE` and `GITHUB_PATH`, and the post step reads its state back as
 * `STATE_<name>`. Messages use the runner's `::command::` lines.
 */
export type ActionEnv = Record<string, string | undefined>;

/** An input's value, trimmed; '' when unset. The runner upper-cases names and keeps hyphens. */
export function getInput(env: ActionEnv, name: string): string {
  return (env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] ?? '').trim();
}

/** A value the main step saved with `saveState`, in the post step. */
export function getState(env: ActionEnv, name: string): string {
  return env[`STATE_${name}`] ?? '';
}

export type FileCommand = 'GITHUB_OUTPUT' | 'GITHUB_ENV' | 'GITHUB_STATE';

/**
 * One `name<<delimiter` block, the form that allows any value (multi-line too); the delimiter is
 * random so a value cannot end the block early.
 */
export function fileCommandEntry(
  name: string,
  value: string,
  delimiter = `ghadelimiter_${randomUUID()}`,
): string {
  if (name.includes('\n') || name.includes('=') || name.includes('<<')) {
    throw new Error(`invalid name for a workflow file command: ${JSON.stringify(name)}`);
  }
  if (value.includes(delimiter)) throw new Error('the value contains the delimiter');
  return `${name}<<${delimiter}\n${value}\n${delimiter}\n`;
}

export class WorkflowCommands {
  constructor(
    private readonly env: ActionEnv,
    private readonly out: LogSink = process.stdout,
  ) {}

  private append(command: FileCommand | 'GITHUB_PATH', text: string): void {
    const file = this.env[command];
    if (file === undefined || file === '') {
      throw new Error(`${command} is not set: run this as a GitHub Actions step`);
    }
    appendFileSync(file, text, 'utf8');
  }

  setOutput(name: string, value: string): void {
    this.append('GITHUB_OUTPUT', fileCommandEntry(name, value));
  }

  exportVariable(name: string, value: string): void {
    this.append('GITHUB_ENV', fileCommandEntry(name, value));
  }

  saveState(name: string, value: string): void {
    this.append('GITHUB_STATE', fileCommandEntry(name, value));
  }

  addPath(dir: string): void {
    this.append('GITHUB_PATH', `${dir}\n`);
  }

  info(message: string): void {
    this.out.write(`${message}\n`);
  }

  command(name: 'debug' | 'warning' | 'error' | 'group' | 'endgroup', message = '', title?: string): void {
    const props = title === undefined ? '' : ` title=${escapeProperty(title)}`;
    this.out.write(`::${name}${props}::${escapeData(message)}\n`);
  }

  /** The error as the job log shows it: an annotation, then the failing command's output and the hint. */
  reportError(what: string, error: unknown): void {
    this.command('error', messageOf(error), what);
    if (isKurError(error)) {
      if (error.detail !== undefined && error.detail.trim() !== '') this.info(error.detail.trimEnd());
      if (error.hint !== undefined) this.info(`HINT: ${error.hint}`);
    }
  }

  /** kur's logger on the job log: warnings become annotations, debug shows with step debug logging. */
  logger(): Logger {
    return {
      level: this.env.RUNNER_DEBUG === '1' ? 'debug' : 'info',
      debug: (m) => this.command('debug', m),
      info: (m) => this.info(m),
      warn: (m) => this.command('warning', m),
    };
  }

  /** Create progress as plain lines: each step's start and end, and changes of its status. */
  progress(): (event: ProgressEvent) => void {
    let lastStatus = '';
    return (event) => {
      const step = event.path.join(' > ');
      switch (event.type) {
        case 'start':
          this.info(`[kur] ${step}`);
          break;
        case 'status': {
          const line = `[kur] ${step}: ${event.text}`;
          if (line !== lastStatus) this.info(line);
          lastStatus = line;
          break;
        }
        case 'done':
          this.info(`[kur] ${step}: done in ${formatDuration(event.durationMs)}`);
          break;
        case 'skip':
          this.info(`[kur] ${step}: skipped (${event.reason})`);
          break;
        case 'fail':
          this.info(`[kur] ${step}: failed after ${formatDuration(event.durationMs)}`);
          break;
      }
    };
  }
}

/** The runner's escaping for a command's message. */
export function escapeData(text: string): string {
  return text.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

/** The runner's escaping for a command property (title=...). */
export function escapeProperty(text: string): string {
  return escapeData(text).replace(/:/g, '%3A').replace(/,/g, '%2C');
}
