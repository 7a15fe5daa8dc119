import { Document } from 'yaml';
import type { Logger } from '../util/logger.js';
import { decodeDocument } from './decode.js';
import { applyDefaults } from './defaults.js';
import { fromKind } from './kind-compat.js';
import { parseConfigText } from './parse.js';
import type { ConfigProblem, Locator } from './problems.js';
import { configError, formatProblem } from './problems.js';
import { clusterSchema } from './schema.js';
import type { ClusterConfig, ClusterConfigInput } from './types.js';
import { kindApiVersion } from './types.js';
import type { ConfigFormat } from './validate.js';
import { validateClusterConfig } from './validate.js';

export interface LoadClusterConfigOptions {
  /** The file's text (the CLI reads the file, or stdin for `-`). */
  text: string;
  /** How errors name the file: its path, or e.g. `<stdin>`. */
  source: string;
  /** The CLI's --name, which wins over the file's name. */
  name?: string;
  /** Receives warnings (kind-format leniencies); silent when absent. */
  logger?: Logger;
}

/**
 * parse (apiVersion/kind) -> strict decode -> defaults -> validate. Throws a KurError of kind
 * 'config' whose message is `<file>:<line>:<col>: <field>: <problem>`, with the fix as hint and
 * every further problem in the detail.
 */
export function loadClusterConfig(options: LoadClusterConfigOptions): ClusterConfig {
  const { source, apiVersion } = parseConfigText(options.text, options.source);
  const decoded = decodeDocument(source.doc, clusterSchema);
  if (decoded.problems.length > 0) throw configError(decoded.problems, source);
  const format: ConfigFormat = apiVersion === kindApiVersion ? 'kind' : 'kur';
  return finish(stripTypeMeta(decoded.value), format, options.name, source, options.logger);
}

/**
 * The same checks for a config given as an object (the library's options): strict decoding
 * catches wrong types from JavaScript callers; errors name fields without file positions.
 */
export function normalizeClusterConfig(
  input: ClusterConfigInput,
  options: { name?: string; logger?: Logger } = {},
): ClusterConfig {
  const decoded = decodeDocument(new Document(input), clusterSchema);
  if (decoded.problems.length > 0) throw configError(decoded.problems);
  return finish(stripTypeMeta(decoded.value), 'kur', options.name, undefined, options.logger);
}

/** The config of `kur create cluster` without a file: one control-plane node. */
export function defaultClusterConfig(name?: string): ClusterConfig {
  return normalizeClusterConfig({}, name === undefined ? {} : { name });
}

function finish(
  decoded: ClusterConfigInput,
  format: ConfigFormat,
  name: string | undefined,
  locator: Locator | undefined,
  logger: Logger | undefined,
): ClusterConfig {
  let input = decoded;
  const warnings: ConfigProblem[] = [];
  if (format === 'kind') {
    const converted = fromKind(input);
    input = converted.input;
    warnings.push(...converted.warnings);
  }
  const config = applyDefaults(input, name);
  if (name !== undefined && name !== decoded.name) {
    // A bad --name is not in the file: report it without a file position.
    const named = validateClusterConfig(config, format).problems.filter((p) => p.path[0] === 'name');
    if (named.length > 0) throw configError(named.map((p) => ({ ...p, problem: `(--name) ${p.problem}` })));
  }
  const result = validateClusterConfig(config, format);
  if (result.problems.length > 0) throw configError(result.problems, locator);
  for (const w of [...warnings, ...result.warnings]) {
    logger?.warn(`${formatProblem(w, locator)}${w.hint === undefined ? '' : ` (${w.hint})`}`);
  }
  return config;
}

function stripTypeMeta(value: unknown): ClusterConfigInput {
  const {
    apiVersion: _a,
    kind: _k,
    ...rest
  } = (value ?? {}) as ClusterConfigInput & { apiVersion?: unknown; kind?: unknown };
  return rest;
}
