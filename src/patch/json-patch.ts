import type { JsonValue } from './json.js';
import { cloneJson, isJsonObject, jsonEqual, PatchError } from './json.js';
import { parseYamlJson } from './yaml-text.js';

/** One RFC 6902 operation. */
export type JsonPatchOperation =
  | { op: 'add' | 'replace' | 'test'; path: string; value: JsonValue }
  | { op: 'remove'; path: string }
  | { op: 'move' | 'copy'; path: string; from: string };

const ops = ['add', 'remove', 'replace', 'move', 'copy', 'test'] as const;

/** Parses a patch written as a YAML or JSON list of operations, checking each one's shape. */
export function parseJsonPatch(text: string): JsonPatchOperation[] {
  const value = parseYamlJson(text);
  if (!Array.isArray(value))
    throw new PatchError('a JSON patch must be a list of operations (`- op: add ...`)');
  return value.map((raw, i) => atOperation(i, () => parseOperation(raw, `operation ${i}`)));
}

function parseOperation(raw: JsonValue, where: string): JsonPatchOperation {
  if (!isJsonObject(raw)) throw new PatchError(`${where} must be a mapping with op and path`);
  const { op, path } = raw;
  if (typeof op !== 'string' || !(ops as readonly string[]).includes(op)) {
    throw new PatchError(`${where}: op must be one of ${ops.join(', ')}, got ${JSON.stringify(op ?? null)}`);
  }
  if (typeof path !== 'string')
    throw new PatchError(`${where}: path must be a string (a JSON pointer like /a/b)`);
  parsePointer(path, where);
  const known = new Set(['op', 'path', 'value', 'from']);
  const extra = Object.keys(raw).find((k) => !known.has(k));
  if (extra !== undefined) throw new PatchError(`${where}: unknown field ${JSON.stringify(extra)}`);
  switch (op) {
    case 'add':
    case 'replace':
    case 'test':
      if (!('value' in raw)) throw new PatchError(`${where}: ${op} needs a value`);
      return { op, path, value: raw.value! };
    case 'remove':
      return { op, path };
    default: {
      const from = raw.from;
      if (typeof from !== 'string') throw new PatchError(`${where}: ${op} needs from (a JSON pointer)`);
      parsePointer(from, where);
      return { op: op as 'move' | 'copy', path, from };
    }
  }
}

/** Runs one operation's step; a PatchError it throws is tagged with the operation's index. */
function atOperation<T>(index: number, step: () => T): T {
  try {
    return step();
  } catch (error) {
    if (error instanceof PatchError && error.operation === undefined) {
      throw new PatchError(error.message, error.position, index);
    }
    throw error;
  }
}

/** Applies RFC 6902 operations in order to a copy of `document`. */
export function applyJsonPatch(document: JsonValue, operations: readonly JsonPatchOperation[]): JsonValue {
  let doc = cloneJson(document);
  operations.forEach((operation, i) => {
    doc = atOperation(i, () =>
      applyOperation(doc, operation, `operation ${i} (${operation.op} ${operation.path})`),
    );
  });
  return doc;
}

function applyOperation(document: JsonValue, operation: JsonPatchOperation, where: string): JsonValue {
  let doc = document;
  switch (operation.op) {
    case 'add':
      doc = add(doc, parsePointer(operation.path, where), cloneJson(operation.value), where);
      break;
    case 'remove':
      doc = remove(doc, parsePointer(operation.path, where), where).doc;
      break;
    case 'replace': {
      const tokens = parsePointer(operation.path, where);
      doc = remove(doc, tokens, where).doc;
      doc = add(doc, tokens, cloneJson(operation.value), where);
      break;
    }
    case 'test': {
      const actual = get(doc, parsePointer(operation.path, where), where);
      if (!jsonEqual(actual, operation.value)) {
        throw new PatchError(`${where}: test failed, the value is ${JSON.stringify(actual)}`);
      }
      break;
    }
    case 'move': {
      const from = parsePointer(operation.from, where);
      const to = parsePointer(operation.path, where);
      if (to.length > from.length && from.every((t, k) => to[k] === t)) {
        throw new PatchError(`${where}: cannot move a value into itself`);
      }
      const removed = remove(doc, from, where);
      doc = add(removed.doc, to, removed.value, where);
      break;
    }
    case 'copy':
      doc = add(
        doc,
        parsePointer(operation.path, where),
        cloneJson(get(doc, parsePointer(operation.from, where), where)),
        where,
      );
      break;
  }
  return doc;
}

/** The tokens of a JSON pointer (`/a/b~1c` -> a, b/c). */
export function parsePointer(pointer: string, where: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/'))
    throw new PatchError(`${where}: ${JSON.stringify(pointer)} is not a JSON pointer (start with /)`);
  return pointer
    .slice(1)
    .split('/')
    .map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function arrayIndex(token: string, length: number, allowEnd: boolean, where: string): number {
  if (allowEnd && token === '-') return length;
  if (!/^(0|[1-9]\d*)$/.test(token))
    throw new PatchError(`${where}: ${JSON.stringify(token)} is not an array index`);
  const index = Number(token);
  if (index > length || (!allowEnd && index === length))
    throw new PatchError(`${where}: index ${index} is out of range`);
  return index;
}

function parentOf(doc: JsonValue, tokens: readonly string[], where: string): JsonValue {
  return get(doc, tokens.slice(0, -1), where);
}

function get(doc: JsonValue, tokens: readonly string[], where: string): JsonValue {
  let node = doc;
  for (const token of tokens) {
    if (Array.isArray(node)) node = node[arrayIndex(token, node.length, false, where)]!;
    else if (isJsonObject(node) && Object.hasOwn(node, token)) node = node[token]!;
    else throw new PatchError(`${where}: path not found at ${JSON.stringify(token)}`);
  }
  return node;
}

function add(doc: JsonValue, tokens: readonly string[], value: JsonValue, where: string): JsonValue {
  if (tokens.length === 0) return value;
  const parent = parentOf(doc, tokens, where);
  const last = tokens[tokens.length - 1]!;
  if (Array.isArray(parent)) parent.splice(arrayIndex(last, parent.length, true, where), 0, value);
  else if (isJsonObject(parent)) parent[last] = value;
  else throw new PatchError(`${where}: the parent is not an object or array`);
  return doc;
}

function remove(
  doc: JsonValue,
  tokens: readonly string[],
  where: string,
): { doc: JsonValue; value: JsonValue } {
  if (tokens.length === 0) return { doc: null, value: doc };
  const parent = parentOf(doc, tokens, where);
  const last = tokens[tokens.length - 1]!;
  if (Array.isArray(parent)) {
    const [value] = parent.splice(arrayIndex(last, parent.length, false, where), 1);
    return { doc, value: value! };
  }
  if (isJsonObject(parent) && Object.hasOwn(parent, last)) {
    const value = parent[last]!;
    delete parent[last];
    return { doc, value };
  }
  throw new PatchError(`${where}: path not found at ${JSON.stringify(last)}`);
}
