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

/** How many problems an error lists; the rest are counted ("and 12 more"). */
export const maxListedProblems = 20;

/**
 * The one way validation reports: every check adds ConfigProblems here (errors, or warnings
 * for things that work but may surprise), and the caller turns them into one error.
 */
export class ProblemList {
  readonly errors: ConfigProblem[] = [];
  readonly warnings: ConfigProblem[] = [];

  add(problem: ConfigProblem): void {
    this.errors.push(problem);
  }

  warn(problem: ConfigProblem): void {
    this.warnings.push(problem);
  }

  /** An error, or only a warning when `lenient` (kind's format, where kind is lenient). */
  addOrWarn(problem: ConfigProblem, lenient: boolean): void {
    (lenient ? this.warnings : this.errors).push(problem);
  }
}

/**
 * One KurError for all problems found: the message is the first, the detail lists the first
 * {@link maxListedProblems} with their fixes and counts the rest, so a user fixes a file in one
 * pass instead of one error per run, and a file with thousands of problems prints a page.
 */
export function configError(problems: readonly ConfigProblem[], locator?: Locator): KurError {
  const [first] = problems;
  if (first === undefined) throw new Error('configError called without problems');
  const listed = problems.slice(0, maxListedProblems);
  const unlisted = problems.length - listed.length;
  const detail =
    problems.length > 1
      ? [
          ...listed.map(
            (p) => `${formatProblem(p, locator)}${p.hint === undefined ? '' : `\n    fix: ${p.hint}`}`,
          ),
          ...(unlisted > 0 ? [`... and ${unlisted} more problem${unlisted > 1 ? 's' : ''}`] : []),
        ].join('\n')
      : undefined;
  const message =
    problems.length > 1
      ? `${formatProblem(first, locator)} (and ${problems.length - 1} more problem${problems.length > 2 ? 's' : ''}, listed below)`
      : formatProblem(first, locator);
  return new KurError('config', message, { hint: first.hint, detail });
}
