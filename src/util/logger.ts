/**
 * Progress and diagnostics go to stderr; results go to stdout (see src/cli/output.ts).
 * The logger is passed in, never imported as a global, so library callers and tests can
 * capture or silence it.
 */
export type LogLevel = 'quiet' | 'info' | 'debug';

export interface Logger {
  readonly level: LogLevel;
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
}

export interface LogSink {
  write(text: string): unknown;
}

export function createLogger(level: LogLevel, sink: LogSink = process.stderr): Logger {
  const emit = (prefix: string, message: string): void => {
    sink.write(`${prefix}${message}\n`);
  };
  return {
    level,
    debug: (m) => {
      if (level === 'debug') emit('DEBUG: ', m);
    },
    info: (m) => {
      if (level !== 'quiet') emit('', m);
    },
    // Warnings show even with -q: they are about something the user should fix.
    warn: (m) => emit('WARNING: ', m),
  };
}

/** A logger that drops everything, for library use without a terminal. */
export const silentLogger: Logger = {
  level: 'quiet',
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
};
