import type { Command } from 'commander';
import type { EngineOptions, Presentation } from '../api/common.js';
import { abortOnSignals } from '../api/signals.js';
import { chooseRenderer } from '../ui/progress.js';
import { createLogger, type Logger, type LogLevel } from '../util/logger.js';

export type OutputFormat = 'text' | 'json';

/** What every command gets from the global flags. */
export interface CliContext {
  logger: Logger;
  output: OutputFormat;
  verbose: boolean;
  /** Engine endpoint named with --host (else KUR_HOST and the other strategies apply). */
  host: string | undefined;
  /** True when progress should be plain lines (not a TTY, CI, or -v). */
  plainProgress: boolean;
  env: NodeJS.ProcessEnv;
}

interface GlobalOptions {
  verbose?: boolean;
  quiet?: boolean;
  output?: OutputFormat;
  host?: string;
}

export function contextFrom(command: Command, env: NodeJS.ProcessEnv = process.env): CliContext {
  const opts = command.optsWithGlobals<GlobalOptions>();
  const verbose = opts.verbose === true;
  const level: LogLevel = verbose ? 'debug' : opts.quiet === true ? 'quiet' : 'info';
  const isTty = process.stderr.isTTY === true;
  return {
    logger: createLogger(level),
    output: opts.output ?? 'text',
    verbose,
    host: opts.host,
    plainProgress: verbose || !isTty || isCi(env) || level === 'quiet',
    env,
  };
}

export function isCi(env: NodeJS.ProcessEnv): boolean {
  return env.CI === 'true' || env.CI === '1' || env.GITHUB_ACTIONS === 'true';
}

/** The engine the global flags and environment point at, for a library call. */
export function engineOptions(ctx: CliContext): EngineOptions {
  return { ...(ctx.host !== undefined ? { host: ctx.host } : {}), env: ctx.env, logger: ctx.logger };
}

/** Progress on stderr: interactive on a terminal, plain lines in CI or with -v, none with -q. */
export function presentation(ctx: CliContext): Presentation {
  return { renderer: chooseRenderer({ quiet: ctx.logger.level === 'quiet', plain: ctx.plainProgress }) };
}

/**
 * Runs `work` so that the first SIGINT/SIGTERM aborts it (it rolls back what it created) and a
 * second one exits at once, for users who would rather clean up by hand.
 */
export function interruptible<T>(ctx: CliContext, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const notice = (signal: NodeJS.Signals): void =>
    ctx.logger.warn(`${signal} received: stopping and cleaning up (press Ctrl-C again to exit at once)`);
  return abortOnSignals({ notice, exitOnSecond: true }, work);
}
