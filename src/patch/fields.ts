import generated from './kubeadm-fields.json' with { type: 'json' };
import type { JsonValue } from './json.js';
import { isJsonObject } from './json.js';
import type { KubeadmDocumentKind } from './kubeadm-patches.js';
import { closest } from './suggest.js';

/**
 * Field lists of the documents users patch, generated from the pinned Kubernetes version's Go
 * types by images/go/config-fields (`make config-fields`; its test fails when the file is stale).
 */
type FieldSchema =
  | 'string'
  | 'integer'
  | 'number'
  | 'boolean'
  | 'any'
  | { list: FieldSchema }
  | { map: FieldSchema }
  | { ref: string };

interface FieldLists {
  kubernetesVersion: string;
  kinds: Record<string, { apiVersion: string; type: string }>;
  types: Record<string, Record<string, FieldSchema>>;
}

const lists = generated as unknown as FieldLists;

/** The Kubernetes version whose types the field lists come from. */
export const fieldListsVersion = lists.kubernetesVersion;

/** A field a patch names that its target does not have, or a value of the wrong type. */
export interface FieldProblem {
  /** Where in the patched document (or in a merge patch's text): `['apiServer', 'extraArgz']`. */
  path: (string | number)[];
  problem: string;
  hint: string;
  /** Point at the key (an unknown field) or the value (a wrong type). */
  at: 'key' | 'value';
}

/** Lists of `{name, value}` a merge patch may also write as a map (see merge-patch.ts). */
const argLists = new Set(['extraArgs', 'kubeletExtraArgs']);

/**
 * Checks a value against the fields of `kind` at `base` (a path into the document). With
 * `mergePatch`, `null` deletes and the map form of extraArgs is allowed, as the merge accepts.
 */
export function checkFields(
  kind: KubeadmDocumentKind,
  value: JsonValue,
  options: { base?: (string | number)[]; mergePatch?: boolean } = {},
): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const base = options.base ?? [];
  const schema = schemaAt(kind, base);
  if (schema === undefined) return problems;
  checkValue(kind, schema, value, [...base], options.mergePatch === true, problems);
  return problems;
}

/**
 * Checks the field names along a JSON pointer's tokens; `adding` allows the last token to be a
 * new list position (`-`). Returns at most one problem: the first token that names no field.
 */
export function checkPointer(kind: KubeadmDocumentKind, tokens: readonly string[]): FieldProblem | undefined {
  let schema: FieldSchema = rootSchema(kind);
  const path: (string | number)[] = [];
  for (const token of tokens) {
    const resolved = schema;
    if (resolved === 'any') return undefined;
    if (typeof resolved === 'string') {
      return {
        path: [...path, token],
        problem: `${describePath(kind, path)} is ${article(resolved)}: it has no field ${JSON.stringify(token)}`,
        hint: `Point the patch at ${describePath(kind, path)} itself.`,
        at: 'key',
      };
    }
    if ('list' in resolved) {
      if (token !== '-' && !/^(0|[1-9]\d*)$/.test(token)) {
        return {
          path: [...path, token],
          problem: `${describePath(kind, path)} is a list: ${JSON.stringify(token)} is not an index`,
          hint: 'Use a list index (0, 1, ...) or - for the end of the list.',
          at: 'key',
        };
      }
      schema = resolved.list;
      path.push(token === '-' ? token : Number(token));
    } else if ('map' in resolved) {
      schema = resolved.map;
      path.push(token);
    } else {
      const fields = objectFields(resolved.ref);
      const next = fields[token];
      if (next === undefined) return unknownField(kind, path, token, fields);
      schema = next;
      path.push(token);
    }
  }
  return undefined;
}

function rootSchema(kind: KubeadmDocumentKind): FieldSchema {
  return { ref: lists.kinds[kind]!.type };
}

function schemaAt(kind: KubeadmDocumentKind, path: readonly (string | number)[]): FieldSchema | undefined {
  let schema: FieldSchema = rootSchema(kind);
  for (const step of path) {
    const resolved = schema;
    if (typeof resolved === 'string') return resolved === 'any' ? 'any' : undefined;
    if ('list' in resolved) schema = resolved.list;
    else if ('map' in resolved) schema = resolved.map;
    else {
      const next: FieldSchema | undefined = objectFields(resolved.ref)[String(step)];
      if (next === undefined) return undefined;
      schema = next;
    }
  }
  return schema;
}

function objectFields(ref: string): Record<string, FieldSchema> {
  return lists.types[ref] ?? {};
}

function checkValue(
  kind: KubeadmDocumentKind,
  schema: FieldSchema,
  value: JsonValue,
  path: (string | number)[],
  mergePatch: boolean,
  problems: FieldProblem[],
): void {
  if (value === null && mergePatch) return;
  if (typeof schema === 'string') {
    if (!scalarMatches(schema, value)) problems.push(wrongType(kind, path, article(schema), value));
    return;
  }
  if ('list' in schema) {
    const last = path[path.length - 1];
    if (mergePatch && typeof last === 'string' && argLists.has(last) && isJsonObject(value)) {
      for (const [name, v] of Object.entries(value)) {
        if (v !== null && typeof v !== 'string')
          problems.push(wrongType(kind, [...path, name], 'a string', v));
      }
      return;
    }
    if (!Array.isArray(value)) return void problems.push(wrongType(kind, path, 'a list', value));
    value.forEach((item, i) => checkValue(kind, schema.list, item, [...path, i], mergePatch, problems));
    return;
  }
  if (!isJsonObject(value)) {
    return void problems.push(wrongType(kind, path, 'a mapping', value));
  }
  if ('map' in schema) {
    for (const [key, v] of Object.entries(value)) {
      checkValue(kind, schema.map, v, [...path, key], mergePatch, problems);
    }
    return;
  }
  const fields = objectFields(schema.ref);
  for (const [key, v] of Object.entries(value)) {
    const field = fields[key];
    if (field === undefined)
      problems.push(unknownField(kind, path, key, fields, problems.length < maxSuggestions));
    else checkValue(kind, field, v, [...path, key], mergePatch, problems);
  }
}

function scalarMatches(
  schema: 'string' | 'integer' | 'number' | 'boolean' | 'any',
  value: JsonValue,
): boolean {
  switch (schema) {
    case 'any':
      return true;
    case 'string':
      return typeof value === 'string';
    case 'boolean':
      return typeof value === 'boolean';
    case 'integer':
      return typeof value === 'number' && Number.isInteger(value);
    case 'number':
      return typeof value === 'number';
  }
}

/** Past this many unknown fields in one check, no more typo suggestions (nobody reads them). */
const maxSuggestions = 50;

function unknownField(
  kind: KubeadmDocumentKind,
  path: readonly (string | number)[],
  name: string,
  fields: Record<string, FieldSchema>,
  suggest = true,
): FieldProblem {
  const known = Object.keys(fields).sort();
  const guess = suggest ? closest(name, known) : undefined;
  const where = path.length === 0 ? `${kind}` : describePath(kind, path);
  return {
    path: [...path, name],
    problem: `${where} has no field ${JSON.stringify(name)} (${lists.kinds[kind]!.apiVersion}, Kubernetes ${lists.kubernetesVersion})`,
    hint:
      guess !== undefined
        ? `Did you mean ${JSON.stringify(guess)}?`
        : `Fields of ${where}: ${known.slice(0, 40).join(', ')}${known.length > 40 ? ', ...' : ''}.`,
    at: 'key',
  };
}

function wrongType(
  kind: KubeadmDocumentKind,
  path: readonly (string | number)[],
  expected: string,
  value: JsonValue,
): FieldProblem {
  return {
    path: [...path],
    problem: `${describePath(kind, path)} must be ${expected}, got ${describeValue(value)}`,
    hint: expected === 'a string' ? 'Quote the value.' : `Write ${expected}.`,
    at: 'value',
  };
}

/** `ClusterConfiguration.apiServer.extraArgs[0]` */
export function describePath(kind: string, path: readonly (string | number)[]): string {
  let out = kind;
  for (const step of path) out += typeof step === 'number' ? `[${step}]` : `.${step}`;
  return out;
}

function article(schema: string): string {
  return schema === 'integer' ? 'an integer' : schema === 'any' ? 'a value' : `a ${schema}`;
}

function describeValue(value: JsonValue): string {
  if (Array.isArray(value)) return 'a list';
  if (isJsonObject(value)) return 'a mapping';
  if (typeof value === 'string') return `the string ${JSON.stringify(value)}`;
  return String(value);
}
