import { isAlias, isMap, isScalar, isSeq } from 'yaml';
import type { Document, Node as YamlNode } from 'yaml';
import type { ConfigPath, ConfigProblem } from './problems.js';
import type { Field, Schema } from './schema.js';
import { closest } from '../patch/suggest.js';

/**
 * Strict decoding: walks the YAML nodes along the schema and builds plain values. Unknown
 * keys, wrong types and refused kind fields become problems (all of them, not just the first).
 * An explicit `null` counts as absent, as it does for kind's Go decoder.
 */
export function decodeDocument(doc: Document, schema: Schema): { value: unknown; problems: ConfigProblem[] } {
  const problems: ConfigProblem[] = [];
  const value = decodeNode(doc, doc.contents, schema, [], problems);
  return { value, problems };
}

function decodeNode(
  doc: Document,
  raw: YamlNode | null | undefined,
  schema: Schema,
  path: ConfigPath,
  problems: ConfigProblem[],
): unknown {
  const node =
    raw !== null && raw !== undefined && isAlias(raw) ? (raw.resolve(doc) as YamlNode | undefined) : raw;
  if (node === null || node === undefined) return undefined;
  if (isScalar(node) && node.value === null) return undefined;

  switch (schema.type) {
    case 'string':
    case 'integer':
    case 'boolean': {
      if (!isScalar(node)) {
        problems.push({ path, problem: `expected ${article(schema.type)}, got ${describe(node)}` });
        return undefined;
      }
      const v = node.value;
      if (schema.type === 'string' && typeof v === 'string') return v;
      if (schema.type === 'integer' && typeof v === 'number' && Number.isInteger(v)) return v;
      if (schema.type === 'boolean' && typeof v === 'boolean') return v;
      problems.push({
        path,
        problem: `expected ${article(schema.type)}, got ${describe(node)}`,
        hint: typeHint(schema.type, v),
      });
      return undefined;
    }
    case 'list': {
      if (!isSeq(node)) {
        problems.push({
          path,
          problem: `expected a list, got ${describe(node)}`,
          hint: 'Write a YAML list: one `- item` per line.',
        });
        return undefined;
      }
      return node.items.map((item, i) =>
        decodeNode(doc, item as YamlNode | null, schema.items, [...path, i], problems),
      );
    }
    case 'map': {
      if (!isMap(node)) {
        problems.push({
          path,
          problem: `expected a mapping, got ${describe(node)}`,
          hint: 'Write `key: value` pairs.',
        });
        return undefined;
      }
      const out: Record<string, unknown> = {};
      for (const pair of node.items) {
        const key = isScalar(pair.key) ? pair.key.value : undefined;
        if (typeof key !== 'string') {
          problems.push({
            path,
            problem: `keys must be strings, got ${String(key)}`,
            hint: 'Quote the key.',
          });
          continue;
        }
        const v = decodeNode(doc, pair.value as YamlNode | null, schema.values, [...path, key], problems);
        if (v !== undefined) out[key] = v;
      }
      return out;
    }
    case 'object':
      return decodeObject(doc, node, schema.fields, path, problems);
  }
}

function decodeObject(
  doc: Document,
  node: YamlNode,
  fields: Readonly<Record<string, Field>>,
  path: ConfigPath,
  problems: ConfigProblem[],
): Record<string, unknown> | undefined {
  if (!isMap(node)) {
    problems.push({
      path,
      problem: `expected a mapping, got ${describe(node)}`,
      hint: 'Write `field: value` pairs.',
    });
    return undefined;
  }
  const known = Object.keys(fields);
  const out: Record<string, unknown> = {};
  for (const pair of node.items) {
    const key = isScalar(pair.key) ? pair.key.value : undefined;
    if (typeof key !== 'string') {
      problems.push({ path, problem: `field names must be strings, got ${String(key)}` });
      continue;
    }
    const fieldPath = [...path, key];
    const field = fields[key];
    if (field === undefined) {
      const guess = closest(key, known);
      problems.push({
        path: fieldPath,
        at: 'key',
        problem: 'unknown field',
        hint:
          guess !== undefined
            ? `Did you mean "${guess}"?`
            : `Remove it. Known fields here: ${known.filter((k) => !fields[k]?.unsupported).join(', ')}.`,
      });
      continue;
    }
    const value = decodeNode(doc, pair.value as YamlNode | null, field.schema, fieldPath, problems);
    if (value === undefined) continue;
    if (field.unsupported !== undefined) {
      if (field.unsupported.accepts?.(value) !== true) {
        problems.push({
          path: fieldPath,
          at: 'key',
          problem: field.unsupported.problem,
          hint: field.unsupported.hint,
        });
      }
      continue;
    }
    const refusal = typeof value === 'string' ? field.unsupportedValues?.[value] : undefined;
    if (refusal !== undefined) {
      problems.push({ path: fieldPath, problem: refusal.problem, hint: refusal.hint });
      continue;
    }
    out[key] = value;
  }
  return out;
}

function article(type: 'string' | 'integer' | 'boolean'): string {
  return type === 'integer' ? 'an integer' : `a ${type}`;
}

function describe(node: YamlNode): string {
  if (isMap(node)) return 'a mapping';
  if (isSeq(node)) return 'a list';
  if (isScalar(node)) {
    const v = node.value;
    if (typeof v === 'string') return `the string ${JSON.stringify(v)}`;
    if (typeof v === 'number') return `the number ${String(v)}`;
    if (typeof v === 'boolean') return `the boolean ${String(v)}`;
    return String(v);
  }
  return 'an unsupported YAML node';
}

function typeHint(expected: 'string' | 'integer' | 'boolean', got: unknown): string {
  if (expected === 'string') return `Quote the value: "${String(got)}".`;
  if (expected === 'boolean') {
    if (typeof got === 'string' && /^(yes|no|on|off|y|n)$/i.test(got)) {
      return 'Write true or false (YAML 1.2 reads yes/no/on/off as strings).';
    }
    return 'Write true or false, unquoted.';
  }
  if (typeof got === 'string' && /^-?\d+$/.test(got)) return `Remove the quotes: ${got}.`;
  return 'Write a whole number, unquoted.';
}
