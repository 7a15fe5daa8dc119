import { KurError } from '../util/errors.js';
import type { CheckResult, CheckStatus } from './result.js';

export interface CheckSummary {
  /** No check failed: creating a cluster may go on. */
  ok: boolean;
  failures: CheckResult[];
  warnings: CheckResult[];
}

export function summarizeChecks(results: readonly CheckResult[]): CheckSummary {
  const failures = results.filter((r) => r.status === 'fail');
  const warnings = results.filter((r) => r.status === 'warn');
  return { ok: failures.length === 0, failures, warnings };
}

const statusWord: Record<CheckStatus, string> = { ok: 'ok', warn: 'WARN', fail: 'FAIL', skip: 'skip' };

function indent(text: string, prefix: string): string[] {
  return text.split('\n').map((line) => `${prefix}${line}`);
}

/**
 * One line per check (status, title, what it looked at); for warnings and failures the message
 * and the fix follow, indented. For `kur info` and create's preflight step.
 */
export function renderChecks(results: readonly CheckResult[]): string {
  const width = Math.max(0, ...results.map((r) => r.title.length));
  const lines: string[] = [];
  for (const r of results) {
    lines.push(`${statusWord[r.status].padEnd(5)} ${r.title.padEnd(width)}  ${r.looked}`);
    if (r.status !== 'warn' && r.status !== 'fail') continue;
    lines.push(...indent(r.message, '      '));
    if (r.fix !== undefined) lines.push('      fix:', ...indent(r.fix, '        '));
  }
  return lines.join('\n');
}

/**
 * Every failed check as ONE error: the message names them, the detail says what each looked at
 * and found, the hint holds each fix. Undefined when nothing failed.
 */
export function preflightError(results: readonly CheckResult[]): KurError | undefined {
  const { failures } = summarizeChecks(results);
  if (failures.length === 0) return undefined;
  const names = failures.map((f) => f.title).join('; ');
  const detail = failures
    .flatMap((f) => [`${f.title} (${f.id}): ${f.message}`, `  looked at: ${f.looked}`])
    .join('\n');
  const fixes = failures
    .filter((f) => f.fix !== undefined)
    .flatMap((f) => [`${f.title}:`, ...indent(f.fix!, '  ')]);
  const hint = fixes.length > 0 ? ['fix this host, then run kur again:', ...fixes].join('\n') : undefined;
  return new KurError(
    'preflight',
    `preflight: ${failures.length} check${failures.length === 1 ? '' : 's'} failed, nothing was created: ${names}`,
    hint === undefined ? { detail } : { detail, hint },
  );
}

/** Throws the preflight error when a check failed. */
export function assertPreflight(results: readonly CheckResult[]): void {
  const error = preflightError(results);
  if (error !== undefined) throw error;
}
