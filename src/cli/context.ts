import type { Command } from 'commander';
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
