import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Document } from 'yaml';
import type { Logger } from '../util/logger.js';
import { decodeDocument } from './decode.js';
import { applyDefaults } from './defaults.js';
import { fromKind } from './kind-compat.js';
import { parseConfigText } from './parse.js';
import type { ConfigProblem, Locator } from './problems.js';
import { configError, formatProblem, maxListedProblems } from './problems.js';
import { clusterSchema } from './schema.js';
import type { ClusterConfig, ClusterConfigInput } from './types.js';
import { kindApiVersion } from './types.js';
import type { ConfigFormat } from './validate.js';
import { validateClusterConfig } from './validate.js';
import type { HostPaths } from './validate-nodes.js';
import { resolveHostPath } from './validate-nodes.js';

export type { HostPaths } from './validate-nodes.js';

export interface LoadClusterConfigOptions {
  /** The file's text (the CLI reads the file, or stdin for `-`). */
  text: string;
  /** How errors name the file: its path, or e.g. `<stdin>` (a name in angle brackets is no file). */
  source: string;
  /** The CLI's --name, which wins over the file's name. */
  name?: string;
  /** Receives warnings (kind-format leniencies); silent when absent. */
  logger?: Logger;
  /**
   * How host paths are resolved and checked. Default: relative to the file's directory (for
   * `<stdin>`, the working directory), checked on this machine's filesystem. `false` skips the
   * existence check (an engine on another machine), still resolving relative paths.
   */
  hostPaths?: HostPaths | false;
}

/**
 * parse (apiVersion/kind) -> strict decode -> defaults -> validate. Throws a KurError of kind
 * 'config' whose message is `<file>:<line>:<col>: <field>: <problem>`, with the fix as hint and
 * further problems (the first 20) in the detail. Relative host paths come back resolved.
 */
export function loadClusterConfig(options: LoadClusterConfigOptions): ClusterConfig {
  const { source, apiVersion } = parseConfigText(options.text, options.source);
  const decoded = decodeDocument(source.doc, clusterSchema);
  if (decoded.problems.length > 0) throw configError(decoded.problems, source);
  const format: ConfigFormat = apiVersion === kindApiVersion ? 'kind' : 'kur';
  const isFile = !/^<.*>$/.test(options.source);
  const baseDir = isFile ? dirname(resolve(options.source)) : process.cwd();
  const config = finish(stripTypeMeta(decoded.value), {
    format,
    name: options.name,
    locator: source,
    logger: options.logger,
    hostPaths: hostPathsOption(options.hostPaths, baseDir),
  });
  locators.set(config, source);
  return config;
}

/**
 * The same checks for a config given as an object (the library's options): strict decoding
 * catches wrong types from JavaScript callers; errors name fields without file positions.
 * Host paths are checked only when `hostPaths` is given (e.g. {@link localHostPaths}); relative
 * ones start at the working directory.
 */
export function normalizeClusterConfig(
  input: ClusterConfigInput,
  options: { name?: string; logger?: Logger; hostPaths?: HostPaths | false } = {},
): ClusterConfig {
  const decoded = decodeDocument(new Document(input), clusterSchema);
  if (decoded.problems.length > 0) throw configError(decoded.problems);
  return finish(stripTypeMeta(decoded.value), {
    format: 'kur',
    name: options.name,
    locator: undefined,
    logger: options.logger,
    hostPaths:
      options.hostPaths === undefined
        ? hostPathsOption(false, process.cwd())
        : hostPathsOption(options.hostPaths, process.cwd()),
  });
}

/** Host paths checked on this machine, relative ones starting at `baseDir` (default: the working directory). */
export function localHostPaths(baseDir: string = process.cwd()): HostPaths {
  return { baseDir, exists: existsSync };
}

/** The config of `kur create cluster` without a file: one control-plane node. */
export function defaultClusterConfig(name?: string): ClusterConfig {
  return normalizeClusterConfig({}, name === undefined ? {} : { name });
}

/**
 * Where a loaded config's fields sit in its file, so checks that run later (patches applied to
 * the generated documents, src/kube/patch-check.ts) still report file:line:column.
 */
export function configLocator(config: ClusterConfig): Locator | undefined {
  return locators.get(config);
}

const locators = new WeakMap<ClusterConfig, Locator>();

function hostPathsOption(option: HostPaths | false | undefined, baseDir: string): HostPaths {
  if (option === false) return { baseDir, exists: () => true };
  return option ?? localHostPaths(baseDir);
}

interface FinishOptions {
  format: ConfigFormat;
  name: string | undefined;
  locator: Locator | undefined;
  logger: Logger | undefined;
  hostPaths: HostPaths;
}

function finish(decoded: ClusterConfigInput, options: FinishOptions): ClusterConfig {
  const { format, name, locator, hostPaths } = options;
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
    const named = validateClusterConfig(config, { format }).problems.filter((p) => p.path[0] === 'name');
    if (named.length > 0) throw configError(named.map((p) => ({ ...p, problem: `(--name) ${p.problem}` })));
  }
  const result = validateClusterConfig(config, { format, hostPaths });
  if (result.problems.length > 0) throw configError(result.problems, locator);
  const allWarnings = [...warnings, ...result.warnings];
  for (const w of allWarnings.slice(0, maxListedProblems)) {
    options.logger?.warn(`${formatProblem(w, locator)}${w.hint === undefined ? '' : ` (${w.hint})`}`);
  }
  if (allWarnings.length > maxListedProblems) {
    options.logger?.warn(`... and ${allWarnings.length - maxListedProblems} more warnings about the config`);
  }
  config.nodes.forEach((node, i) =>
    node.extraMounts.forEach((mount, j) => {
      const resolved = resolveHostPath(mount.hostPath, hostPaths.baseDir);
      if (resolved !== mount.hostPath) {
        options.logger?.info(`nodes[${i}].extraMounts[${j}].hostPath ${mount.hostPath} is ${resolved}`);
      }
      mount.hostPath = resolved;
    }),
  );
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
