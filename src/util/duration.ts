import { KurError } from './errors.js';

const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Parses Go-style durations ("90s", "5m", "1h30m", "0") into milliseconds. */
export function parseDuration(text: string, flag = 'duration'): number {
  const trimmed = text.trim();
  if (trimmed === '0') return 0;
  const pattern = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;
  let total = 0;
  let consumed = 0;
  for (const match of trimmed.matchAll(pattern)) {
    if (match.index !== consumed) break;
    total += Number(match[1]) * (units[match[2] ?? ''] ?? 0);
    consumed += match[0].length;
  }
  if (consumed === 0 || consumed !== trimmed.length) {
    throw new KurError('usage', `${flag}: "${text}" is not a duration`, {
      hint: 'Use a number with a unit, e.g. 90s, 5m or 1h30m (0 means do not wait).',
    });
  }
  return Math.round(total);
}

/** Renders milliseconds as a short human duration ("1.2s", "2m3s"). */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const minutes = Math.floor(ms / 60_000);
  const seconds = Math.round((ms % 60_000) / 1000);
  return `${minutes}m${seconds}s`;
}
