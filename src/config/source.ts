import { isAlias, isMap, isScalar, isSeq, LineCounter, parseAllDocuments } from 'yaml';
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

  /** Parses YAML text; syntax errors, duplicate keys and extra documents are config errors. */
  static parse(text: string, name: string): ConfigSource {
    const lines = new LineCounter();
    const docs = parseAllDocuments(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
    if (!Array.isArray(docs)) {
      // An empty stream: no document at all.
      throw configError([{ path: [], problem: 'the file is empty', hint: emptyHint }], {
        name,
        position: () => ({ line: 1, col: 1 }),
      });
    }
    const [doc, second] = docs;
    if (doc === undefined) {
      throw configError([{ path: [], problem: 'the file is empty', hint: emptyHint }], {
        name,
        position: () => ({ line: 1, col: 1 }),
      });
    }
    const source = new ConfigSource(name, text, doc, lines);
    const syntax = doc.errors[0];
    if (syntax !== undefined) {
      const pos = lines.linePos(syntax.pos[0]);
      const firstLine = syntax.message.split('\n')[0] ?? syntax.message;
      throw configError(
        [
          {
            path: [],
            problem: `invalid YAML: ${firstLine.replace(/ at line \d+, column \d+:?$/, '')}`,
            hint: 'Fix the YAML syntax at that position (indentation, a missing colon, an unclosed quote).',
            inner: pos,
          },
        ],
        { name, position: () => pos },
      );
    }
    if (second !== undefined) {
      const pos = lines.linePos(second.range[0]);
      throw configError(
        [
          {
            path: [],
            problem: 'the file holds more than one YAML document',
            hint: 'Put exactly one `kind: Cluster` document in the file (remove the `---` separator and what follows).',
          },
        ],
        { name, position: () => pos },
      );
    }
    if (doc.contents === null) {
      throw configError([{ path: [], problem: 'the file is empty', hint: emptyHint }], {
        name,
        position: () => ({ line: 1, col: 1 }),
      });
    }
    return source;
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
      const indent = lineText === undefined ? 0 : lineText.length - lineText.trimStart().length;
      return { line: contentLine, col: indent + inner.col };
    }
    if (inner.line === 1) {
      const quoted = type === 'QUOTE_DOUBLE' || type === 'QUOTE_SINGLE';
      return { line: scalarPos.line, col: scalarPos.col + inner.col - 1 + (quoted ? 1 : 0) };
    }
    return scalarPos;
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

const emptyHint =
  'Write a cluster config, e.g.:\napiVersion: kur.dev/v1alpha1\nkind: Cluster\nname: dev\nnodes:\n  - role: control-plane';

function findPair(items: readonly Pair<unknown, unknown>[], key: string): Pair<unknown, unknown> | undefined {
  return items.find((p) => isScalar(p.key) && p.key.value === key);
}
