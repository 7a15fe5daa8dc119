/**
 * One error type for everything kur reports to a user. The top-level handler prints
 * `ERROR: <message>`, the detail (a failing command's output), then the hint, and exits with
 * the code of the error's kind, so scripts can tell "fix your config" from "start an engine".
 */
export const exitCodes = {
  internal: 1,
  usage: 2,
  config: 3,
  engine: 4,
  preflight: 5,
  notFound: 6,
  conflict: 7,
  build: 8,
  command: 9,
  timeout: 10,
  cancelled: 130,
} as const;

export type ErrorKind = keyof typeof exitCodes;

export interface KurErrorOptions {
  /** What the user can do about it, one or two sentences. */
  hint?: string;
  /** Output of the command that failed, or other evidence; printed verbatim. */
  detail?: string;
  cause?: unknown;
}

export class KurError extends Error {
  readonly kind: ErrorKind;
  readonly hint: string | undefined;
  readonly detail: string | undefined;

  constructor(kind: ErrorKind, message: string, options: KurErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'KurError';
    this.kind = kind;
    this.hint = options.hint;
    this.detail = options.detail;
  }

  get exitCode(): number {
    return exitCodes[this.kind];
  }
}

export function isKurError(error: unknown, kind?: ErrorKind): error is KurError {
  return error instanceof KurError && (kind === undefined || error.kind === kind);
}

/** The message of anything thrown, for wrapping foreign errors. */
export function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
