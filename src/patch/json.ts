/** Plain JSON values: what YAML and TOML documents become before patching. */
export type JsonValue = null | boolean | number | string | JsonValue[] | JsonObject;
export interface JsonObject {
  [key: string]: JsonValue;
}

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A deep copy, so patching never mutates a caller's object. */
export function cloneJson<T extends JsonValue>(value: T): T {
  return structuredClone(value);
}

export function jsonEqual(a: JsonValue, b: JsonValue): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    return Array.isArray(b) && a.length === b.length && a.every((v, i) => jsonEqual(v, b[i]!));
  }
  if (isJsonObject(a) && isJsonObject(b)) {
    const ka = Object.keys(a);
    const kb = Object.keys(b);
    return ka.length === kb.length && ka.every((k) => k in b && jsonEqual(a[k]!, b[k]!));
  }
  return false;
}

/** A 1-based position inside a patch's own text. */
export interface TextPosition {
  line: number;
  col: number;
}

/** Something wrong with a user's patch text, with where in that text when known. */
export class PatchError extends Error {
  readonly position: TextPosition | undefined;
  /** For an RFC 6902 patch: the index of the operation that failed. */
  readonly operation: number | undefined;
  constructor(message: string, position?: TextPosition, operation?: number) {
    super(message);
    this.name = 'PatchError';
    this.position = position;
    this.operation = operation;
  }
}
