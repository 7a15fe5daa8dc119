/**
 * Small readers for untyped JSON from the engine API: each returns a value of the asked type or
 * a neutral default, so a missing or renamed field degrades to "unknown" instead of a crash.
 */
export type JsonRecord = Record<string, unknown>;

export function asRecord(value: unknown): JsonRecord | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as JsonRecord)
    : undefined;
}

export function str(value: unknown, fallback = ''): string {
  return typeof value === 'string' ? value : fallback;
}

export function optStr(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

export function num(value: unknown, fallback = 0): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : fallback;
}

export function optBool(value: unknown): boolean | undefined {
  return typeof value === 'boolean' ? value : undefined;
}

export function strArray(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

export function strRecord(value: unknown): Record<string, string> {
  const record = asRecord(value);
  const out: Record<string, string> = {};
  if (record === undefined) return out;
  for (const [key, v] of Object.entries(record)) if (typeof v === 'string') out[key] = v;
  return out;
}

export function records(value: unknown): JsonRecord[] {
  return Array.isArray(value) ? value.map(asRecord).filter((r): r is JsonRecord => r !== undefined) : [];
}

/** Parses JSON text into an object, naming `what` when it is not one. */
export function parseJsonObject(text: string, what: string): JsonRecord {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new Error(`${what} is not valid JSON: ${(error as Error).message}`, { cause: error });
  }
  const record = asRecord(value);
  if (record === undefined) throw new Error(`${what} does not hold a JSON object`);
  return record;
}
