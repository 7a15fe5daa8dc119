import { KurError } from '../util/errors.js';

/** Where in the config a value sits: `['nodes', 1, 'extraPortMappings', 0, 'hostPort']`. */
export type ConfigPath = readonly (string | number)[];

/** A 1-based line and column. */
export interface Position {
  line: number;
  col: number;
}

/** One thing wrong with a config, before it is tied to a file position. */
export interface ConfigProblem {
  path: ConfigPath;
  /** What is wrong, without the field name: `must be between 1 and 65535, got 70000`. */
  problem: string;
  /** How to fix it. */
  hint?: string;
  /** Point at the key (unknown and unsupported fields) rather than the value. Default value. */
  at?: 'key' | 'value';
  /** A position inside the value's text (an error inside a patch), 1-based within that text. */
  inner?: Position;
}

/** Turns positions into text for messages; implemented by ConfigSource for files. */
export interface Locator {
  readonly name: string;
  position(problem: ConfigProblem): Position | undefined;
}

const identifier = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `nodes[1].extraPortMappings[0].hostPort`; map keys that are not identifiers are quoted. */
export function formatPath(path: ConfigPath): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (identifier.test(segment)) out += out === '' ? segment : `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out === '' ? '(document)' : out;
}

/** `<file>:<line>:<col>: <field>: <problem>`, or without the position when there is no file. */
export function formatProblem(problem: ConfigProblem, locator?: Locator): string {
  const field = formatPath(problem.path);
  if (locator === undefined) return `${field}: ${problem.problem}`;
  const pos = locator.position(problem);
  const where = pos === undefined ? locator.name : `${locator.name}:${pos.line}:${pos.col}`;
  return `${where}: ${field}: ${problem.problem}`;
}

/**
 * One KurError for all problems found: the message is the first, the detail lists every one
 * with its fix, so a user fixes a file in one pass instead of one error per run.
 */
export function configError(problems: readonly ConfigProblem[], locator?: Locator): KurError {
  const [first] = problems;
  if (first === undefined) throw new Error('configError called without problems');
  const detail =
    problems.length > 1
      ? problems
          .map((p) => `${formatProblem(p, locator)}${p.hint === undefined ? '' : `\n    fix: ${p.hint}`}`)
          .join('\n')
      : undefined;
  const message =
    problems.length > 1
      ? `${formatProblem(first, locator)} (and ${problems.length - 1} more problem${problems.length > 2 ? 's' : ''}, listed below)`
      : formatProblem(first, locator);
  return new KurError('config', message, { hint: first.hint, detail });
}
