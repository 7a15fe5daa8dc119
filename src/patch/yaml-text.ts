import { Composer, isAlias, isCollection, isMap, isScalar, LineCounter, Parser, stringify } from 'yaml';
import type { CST, Document, Node as YamlNode, Pair, Scalar, YAMLMap } from 'yaml';
import type { JsonValue, TextPosition } from './json.js';
import { PatchError } from './json.js';

/**
 * Limits on YAML a user writes (the cluster config and every patch in it), so parsing stays
 * linear and bounded: a nesting deeper than this is refused before the recursive steps run,
 * and aliases are capped so `*a` chains cannot expand a small file into a huge one.
 */
export const yamlLimits = { maxDepth: 50, maxAliases: 100 } as const;

/** A YAML stream parsed with positions: its documents and the line counter for their offsets. */
export interface ParsedYaml {
  docs: Document.Parsed[];
  lines: LineCounter;
}

/**
 * Parses a YAML stream in linear time: a quote-aware scan bounds flow nesting (`[[[[`) before
 * the parser runs, the parsed tokens are walked without recursion to bound block nesting and
 * count aliases, and duplicate keys are found with one set per mapping (the yaml library's own
 * check is quadratic in the keys of a mapping). Throws a PatchError with a position.
 */
export function parseYamlStream(text: string): ParsedYaml {
  const lines = new LineCounter();
  const flowDepth = scanFlowDepth(text);
  if (flowDepth !== undefined) throw tooDeep(text, flowDepth);
  const tokens = [...new Parser(lines.addNewLine).parse(text)];
  checkTokens(tokens, lines);
  const docs = [...new Composer({ uniqueKeys: false }).compose(tokens)] as Document.Parsed[];
  for (const doc of docs) {
    if (doc.errors.length > 0) break;
    const duplicate = firstDuplicateKey(doc);
    if (duplicate !== undefined) {
      throw new PatchError(
        `invalid YAML: map keys must be unique; ${JSON.stringify(duplicate.key)} is repeated`,
        lines.linePos(duplicate.offset),
      );
    }
  }
  return { docs, lines };
}

function tooDeep(text: string, offset: number): PatchError {
  // The scan runs before the parser counts lines: count them here.
  let line = 1;
  let start = 0;
  for (let i = text.indexOf('\n'); i >= 0 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    start = i + 1;
  }
  return new PatchError(`the YAML nests deeper than ${yamlLimits.maxDepth} levels`, {
    line,
    col: offset - start + 1,
  });
}

/**
 * The offset where flow collections (`[`, `{`) nest deeper than the limit, outside quoted
 * strings and comments; undefined when they never do. Block scalars are not told apart: a
 * literal patch's brackets are balanced.
 */
function scanFlowDepth(text: string): number | undefined {
  let depth = 0;
  let quote: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote !== undefined) {
      if (c === '\\' && quote === '"') i++;
      else if (c === quote) quote = undefined;
      else if (c === '\n' && depth === 0) quote = undefined; // a lone apostrophe in plain text
      continue;
    }
    if (c === '#' && (i === 0 || /\s/.test(text[i - 1]!))) {
      const end = text.indexOf('\n', i);
      if (end < 0) break;
      i = end;
    } else if ((c === '"' || c === "'") && (i === 0 || /[\s[{,:]/.test(text[i - 1]!))) quote = c;
    else if (c === '[' || c === '{') {
      if (++depth > yamlLimits.maxDepth) return i;
    } else if ((c === ']' || c === '}') && depth > 0) depth--;
  }
  return undefined;
}

/** Bounds block nesting and counts aliases, walking the parser's tokens with a stack. */
function checkTokens(tokens: readonly CST.Token[], lines: LineCounter): void {
  const stack: { token: CST.Token; depth: number }[] = tokens.map((token) => ({ token, depth: 0 }));
  let aliases = 0;
  while (stack.length > 0) {
    const { token, depth } = stack.pop()!;
    if (depth > yamlLimits.maxDepth) {
      throw new PatchError(
        `the YAML nests deeper than ${yamlLimits.maxDepth} levels`,
        lines.linePos(token.offset),
      );
    }
    switch (token.type) {
      case 'document':
        if (token.value) stack.push({ token: token.value, depth });
        break;
      case 'alias':
        if (++aliases > yamlLimits.maxAliases) {
          throw new PatchError(
            `more than ${yamlLimits.maxAliases} aliases (*name)`,
            lines.linePos(token.offset),
          );
        }
        break;
      case 'block-map':
      case 'block-seq':
      case 'flow-collection':
        for (const item of token.items) {
          const { key, value } = item as { key?: CST.Token | null; value?: CST.Token };
          if (key) stack.push({ token: key, depth: depth + 1 });
          if (value) stack.push({ token: value, depth: depth + 1 });
        }
        break;
      default:
        break;
    }
  }
}

/** The first key that a mapping repeats (scalar keys), with its offset. */
function firstDuplicateKey(doc: Document.Parsed): { key: string; offset: number } | undefined {
  const stack: unknown[] = [doc.contents];
  while (stack.length > 0) {
    const node = stack.pop();
    if (!isCollection(node)) continue;
    const seen = new Set<string>();
    for (const item of node.items) {
      if (isScalar(item) || isAlias(item) || isCollection(item)) {
        stack.push(item);
        continue;
      }
      const pair = item as { key: unknown; value: unknown };
      if (isMap(node) && isScalar(pair.key)) {
        const key = String(pair.key.value);
        if (seen.has(key)) return { key, offset: pair.key.range?.[0] ?? 0 };
        seen.add(key);
      }
      stack.push(pair.key, pair.value);
    }
  }
  return undefined;
}

/** A document with no content at all (what a trailing `---` or a comment-only part makes). */
export function isEmptyDocument(doc: Document.Parsed): boolean {
  const contents = doc.contents as YamlNode | null;
  if (contents === null) return true;
  return isScalar(contents) && contents.value === null && contents.range?.[0] === contents.range?.[1];
}

/**
 * Parses one YAML (or JSON) document of a user's patch into plain JSON values; syntax errors
 * carry their line and column inside the patch text so the config error can point at them.
 */
export function parseYamlJson(text: string): JsonValue {
  const { docs, lines } = parseYamlStream(text);
  const present = docs.filter((d) => !isEmptyDocument(d) || d.errors.length > 0);
  if (present.length === 0) throw new PatchError('the patch is empty');
  if (present.length > 1) {
    throw new PatchError(
      'the patch holds more than one YAML document; write one patch per list entry',
      lines.linePos(present[1]!.range[0]),
    );
  }
  const doc = present[0]!;
  const error = doc.errors[0];
  if (error !== undefined) {
    const message = (error.message.split('\n')[0] ?? error.message).replace(
      / at line \d+, column \d+:?$/,
      '',
    );
    throw new PatchError(`invalid YAML: ${message}`, lines.linePos(error.pos[0]));
  }
  return (doc.toJS({ maxAliasCount: yamlLimits.maxAliases }) ?? null) as JsonValue;
}

/** Finds positions inside one text: see {@link yamlLocator}. */
export type YamlLocate = (
  path: readonly (string | number)[],
  at?: 'key' | 'value',
) => TextPosition | undefined;

/**
 * Where a value (or, with `at: 'key'`, its key) sits inside a patch's text: `[2, 'path']` is
 * the path of the third operation. The text is parsed once, however many paths are asked for;
 * undefined for a text that does not parse or a path it does not have.
 */
export function yamlLocator(text: string): YamlLocate {
  let parsed: ParsedYaml | undefined;
  try {
    parsed = parseYamlStream(text);
  } catch {
    parsed = undefined;
  }
  const root = parsed?.docs.find((d) => !isEmptyDocument(d))?.contents as YamlNode | null | undefined;
  // Each mapping's pairs by key, built when first asked: many lookups stay linear in the text.
  const index = new Map<YAMLMap, Map<unknown, Pair>>();
  const pairsOf = (map: YAMLMap): Map<unknown, Pair> => {
    let pairs = index.get(map);
    if (pairs === undefined) {
      pairs = new Map(map.items.filter((p) => isScalar(p.key)).map((p) => [(p.key as Scalar).value, p]));
      index.set(map, pairs);
    }
    return pairs;
  };
  return (path, at = 'value') => {
    let node: YamlNode | null | undefined = root;
    let key: YamlNode | undefined;
    for (const step of path) {
      if (node === null || node === undefined || !isCollection(node)) return undefined;
      if (typeof step === 'number') {
        key = undefined;
        node = node.items[step] as YamlNode | undefined;
      } else {
        const pair = isMap(node) ? pairsOf(node).get(step) : undefined;
        if (pair === undefined) return undefined;
        key = pair.key as YamlNode;
        node = pair.value as YamlNode | null;
      }
    }
    const target = at === 'key' && key !== undefined ? key : (node ?? key);
    const offset = target?.range?.[0];
    return offset === undefined || parsed === undefined ? undefined : parsed.lines.linePos(offset);
  };
}

/** One position inside a text (parses it): see {@link yamlLocator}. */
export function locateInYaml(
  text: string,
  path: readonly (string | number)[],
  at: 'key' | 'value' = 'value',
): TextPosition | undefined {
  return yamlLocator(text)(path, at);
}

/** kur's one way to write YAML: block style, no line folding, keys in the order given. */
export function toYaml(value: JsonValue): string {
  return stringify(value, { lineWidth: 0, aliasDuplicateObjects: false });
}

/** A multi-document stream: each document rendered by toYaml, separated by `---`. */
export function toYamlStream(documents: readonly JsonValue[]): string {
  return documents.map((d) => `---\n${toYaml(d)}`).join('');
}
