import { isKurError, messageOf } from '../util/errors.js';
import { exitCodes } from '../util/errors.js';

export interface ErrorReport {
  text: string;
  exitCode: number;
}

/**
 * The single place errors become text: `ERROR: <what failed>`, the failing command's output,
 * the hint that fixes it; the stack only with -v.
 */
export function reportError(error: unknown, verbose: boolean): ErrorReport {
  const lines: string[] = [];
  if (isKurError(error)) {
    lines.push(`ERROR: ${error.message}`);
    if (error.detail !== undefined && error.detail.trim().length > 0) {
      lines.push(indent(error.detail.trimEnd()));
    }
    if (error.hint !== undefined) lines.push(`HINT: ${error.hint}`);
    if (verbose && error.stack !== undefined) lines.push(error.stack);
    if (verbose && error.cause !== undefined) lines.push(`caused by: ${stackOrMessage(error.cause)}`);
    return { text: lines.join('\n'), exitCode: error.exitCode };
  }
  lines.push(`ERROR: ${messageOf(error)}`);
  if (verbose) lines.push(stackOrMessage(error));
  else lines.push('HINT: this is a bug in kur; run again with -v for the stack trace and report it.');
  return { text: lines.join('\n'), exitCode: exitCodes.internal };
}

function stackOrMessage(error: unknown): string {
  return error instanceof Error && error.stack !== undefined ? error.stack : messageOf(error);
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n');
}
