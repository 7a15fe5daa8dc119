import type { CliContext } from './context.js';

/**
 * Results go to stdout: JSON (one document, stable shape) with --output json, else the text
 * the command renders.
 */
export function printResult<T>(ctx: CliContext, data: T, renderText: (data: T) => string): void {
  if (ctx.output === 'json') {
    process.stdout.write(`${JSON.stringify(data, null, 2)}\n`);
    return;
  }
  const text = renderText(data);
  if (text.length > 0) process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

/** Aligned columns for `get` style listings. */
export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('   ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}
