import { isAlias, isMap, isScalar, isSeq } from 'yaml';
import type { LineCounter } from 'yaml';
import { PatchError } from '../patch/json.js';
import type { ParsedYaml } from '../patch/yaml-text.js';
import { isEmptyDocument, parseYamlStream, yamlLimits } from '../patch/yaml-text.js';
import type { Document, Node as YamlNode, Pair } from 'yaml';
import type { ConfigProblem, Locator, Position } from './problems.js';
import { configError } from './problems.js';

/**
 * A config file parsed with positions kept: the YAML document plus a line counter, so any
 * problem found later (by decode or validate, from a field path) can name file:line:column.
 */
export class ConfigSource implements Locator {
  readonly name: string;
  readonly doc: Document.Parsed;
  private readonly text: string;
  private readonly lines: LineCounter;

  private constructor(name: string, text: string, doc: Document.Parsed, lines: LineCounter) {
    this.name = name;
    this.text = text;
    this.doc = doc;
    this.lines = lines;
  }

  /**
   * Parses YAML text; syntax errors, duplicate keys, limits (size, depth, aliases) and extra
   * documents are config errors. Empty documents (a trailing `---`) are ignored, as kind does.
   */
  static parse(text: string, name: string): ConfigSource {
    const fail = (problem: string, hint: string, pos: Position): never => {
      throw configError([{ path: [], problem, hint }], { name, position: () => pos });
    };
    const bytes = Buffer.byteLength(text, 'utf8');
    if (bytes > maxConfigBytes) {
      fail(
        `the file has ${bytes} bytes, more than the ${maxConfigBytes} (${maxConfigBytes / 1024} KiB) a config may have`,
        'A cluster config is small: keep large data (certificates, manifests) in files of their own and mount them with extraMounts.',
        { line: 1, col: 1 },
      );
    }
    let parsed: ParsedYaml;
    try {
      parsed = parseYamlStream(text);
    } catch (error) {
      if (!(error instanceof PatchError)) throw error;
      return fail(error.message, yamlHint(error.message), error.position ?? { line: 1, col: 1 });
    }
    const { docs, lines } = parsed;
    const syntax = docs.flatMap((d) => d.errors)[0];
    if (syntax !== undefined) {
      const firstLine = syntax.message.split('\n')[0] ?? syntax.message;
      const pos = lines.linePos(syntax.pos[0]);
      fail(
        `invalid YAML: ${firstLine.replace(/ at line \d+, column \d+:?$/, '')}`,
        yamlHint('invalid YAML'),
        pos,
      );
    }
    const present = docs.filter((d) => !isEmptyDocument(d));
    const [doc, second] = present;
    if (doc === undefined) return fail('the file is empty', emptyHint, { line: 1, col: 1 });
    if (second !== undefined) {
      fail(
        'the file holds more than one YAML document',
        'Put exactly one `kind: Cluster` document in the file (remove the `---` separator and what follows).',
        lines.linePos(second.range[0]),
      );
    }
    return new ConfigSource(name, text, doc, lines);
  }

  /** The node at a path, following aliases; undefined when some step is missing. */
  nodeAt(path: ConfigProblem['path']): YamlNode | undefined {
    const steps = this.walk(path);
    return steps.length === path.length + 1 ? steps[steps.length - 1]?.node : undefined;
  }

  /**
   * The nodes along a path, starting with the document's root, as far as the path exists;
   * each step keeps the key node it was reached through (for maps).
   */
  private walk(path: ConfigProblem['path']): { node: YamlNode | undefined; key: YamlNode | undefined }[] {
    let node = this.resolve(this.doc.contents);
    const steps: { node: YamlNode | undefined; key: YamlNode | undefined }[] = [{ node, key: undefined }];
    for (const segment of path) {
      if (node === undefined) break;
      let key: YamlNode | undefined;
      if (typeof segment === 'number') {
        if (!isSeq(node) || segment >= node.items.length) break;
        node = this.resolve(node.items[segment] as YamlNode | null);
      } else {
        const pair = isMap(node) ? findPair(node.items, segment) : undefined;
        if (pair === undefined) break;
        key = (pair.key as YamlNode | null) ?? undefined;
        node = this.resolve(pair.value as YamlNode | null);
      }
      steps.push({ node, key });
    }
    return steps;
  }

  /**
   * The position of a problem: the value's start (or its key's, for `at: 'key'`); for a
   * missing field, the nearest enclosing node that exists, so a defaulted field still points
   * somewhere useful. Inner positions map into literal block scalars (`|`) line by line.
   */
  position(problem: ConfigProblem): Position {
    let best: Position = { line: 1, col: 1 };
    let keyPos: Position | undefined;
    let node: YamlNode | undefined;
    for (const step of this.walk(problem.path)) {
      keyPos = step.key?.range ? this.pos(step.key.range[0]) : undefined;
      node = step.node;
      const here = node?.range ? this.pos(node.range[0]) : keyPos;
      if (here === undefined) break;
      best = here;
    }
    if (problem.at === 'key' && keyPos !== undefined) return keyPos;
    if (problem.inner !== undefined && node && isScalar(node) && node.range) {
      return this.innerPosition(
        node.type,
        best,
        this.pos(Math.max(node.range[0], node.range[1] - 1)).line,
        problem.inner,
      );
    }
    return best;
  }

  private innerPosition(
    type: string | undefined,
    scalarPos: Position,
    endLine: number,
    inner: Position,
  ): Position {
    if (type === 'BLOCK_LITERAL') {
      // The content starts on the line after the `|` header, indented by the block's indent.
      const contentLine = scalarPos.line + inner.line;
      const lineText = this.lineText(contentLine);
      if (lineText === undefined || lineText.trim() === '' || contentLine > endLine) {
        // An error at the end of the text (an unclosed bracket): point after the last line.
        const last = this.lastContentLine(scalarPos.line, Math.min(contentLine, endLine + 1));
        if (last !== undefined) return last;
      }
      return { line: contentLine, col: this.blockIndent(scalarPos.line, endLine) + inner.col };
    }
    if (inner.line === 1) {
      const quoted = type === 'QUOTE_DOUBLE' || type === 'QUOTE_SINGLE';
      return { line: scalarPos.line, col: scalarPos.col + inner.col - 1 + (quoted ? 1 : 0) };
    }
    return scalarPos;
  }

  /** A block scalar's indentation: that of its first non-empty content line. */
  private blockIndent(headerLine: number, endLine: number): number {
    for (let line = headerLine + 1; line <= endLine; line++) {
      const text = this.lineText(line);
      if (text !== undefined && text.trim() !== '') return text.length - text.trimStart().length;
    }
    return 0;
  }

  private lastContentLine(headerLine: number, before: number): Position | undefined {
    for (let line = before - 1; line > headerLine; line--) {
      const text = this.lineText(line);
      if (text !== undefined && text.trim() !== '') return { line, col: text.trimEnd().length + 1 };
    }
    return undefined;
  }

  private lineText(line: number): string | undefined {
    const starts = this.lines.lineStarts;
    const begin = starts[line - 1];
    if (begin === undefined) return undefined;
    const end = starts[line] ?? this.text.length;
    return this.text.slice(begin, end).replace(/\r?\n$/, '');
  }

  private pos(offset: number): Position {
    const { line, col } = this.lines.linePos(offset);
    return { line, col };
  }

  private resolve(node: YamlNode | null | undefined): YamlNode | undefined {
    if (node === null || node === undefined) return undefined;
    if (isAlias(node)) return node.resolve(this.doc) ?? undefined;
    return node;
  }
}

/** The largest config file kur reads; it parses in well under a second. */
export const maxConfigBytes = 256 * 1024;

function yamlHint(message: string): string {
  if (message.startsWith('invalid YAML: map keys must be unique'))
    return 'Remove or rename one of the repeated keys.';
  if (message.startsWith('invalid YAML'))
    return 'Fix the YAML syntax at that position (indentation, a missing colon, an unclosed quote).';
  return `kur reads configs nested at most ${yamlLimits.maxDepth} levels deep, with at most ${yamlLimits.maxAliases} aliases: flatten the structure.`;
}

const emptyHint =
  'Write a cluster config, e.g.:\napiVersion: kur.dev/v1alpha1\nkind: Cluster\nname: dev\nnodes:\n  - role: control-plane';

function findPair(items: readonly Pair<unknown, unknown>[], key: string): Pair<unknown, unknown> | undefined {
  return items.find((p) => isScalar(p.key) && p.key.value === key);
}
