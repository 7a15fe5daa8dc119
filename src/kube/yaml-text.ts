import { LineCounter, parseAllDocuments, stringify } from 'yaml';
import type { JsonValue } from './json.js';
import { PatchError } from './json.js';

/**
 * Parses one YAML (or JSON) document of a user's patch into plain JSON values; syntax errors
 * carry their line and column inside the patch text so the config error can point at them.
 */
export function parseYamlJson(text: string): JsonValue {
  const lines = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (!Array.isArray(docs) || docs.length === 0) throw new PatchError('the patch is empty');
  if (docs.length > 1) {
    throw new PatchError(
      'the patch holds more than one YAML document; write one patch per list entry',
      lines.linePos(docs[1]!.range[0]),
    );
  }
  const doc = docs[0]!;
  const error = doc.errors[0];
  if (error !== undefined) {
    const message = (error.message.split('\n')[0] ?? error.message).replace(
      / at line \d+, column \d+:?$/,
      '',
    );
    throw new PatchError(`invalid YAML: ${message}`, lines.linePos(error.pos[0]));
  }
  return (doc.toJS() ?? null) as JsonValue;
}

/** kur's one way to write YAML: block style, no line folding, keys in the order given. */
export function toYaml(value: JsonValue): string {
  return stringify(value, { lineWidth: 0, aliasDuplicateObjects: false });
}

/** A multi-document stream: each document rendered by toYaml, separated by `---`. */
export function toYamlStream(documents: readonly JsonValue[]): string {
  return documents.map((d) => `---\n${toYaml(d)}`).join('');
}
