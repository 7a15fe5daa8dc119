import { containerNames, maxNodeNameLength, registryNameHint, registryNameProblem } from './names.js';
import type { ConfigProblem } from './problems.js';
import { ProblemList } from './problems.js';
import type { ClusterConfig } from './types.js';
import { nodeRoles } from './types.js';
import type { HostPaths } from './validate-nodes.js';
import { validateNode } from './validate-nodes.js';
import { validateNetworking } from './validate-network.js';
import { validatePatches } from './validate-patches.js';

/** Which file format the config came from: kind's is read leniently where kind is lenient. */
export type ConfigFormat = 'kur' | 'kind';

export interface ValidationResult {
  problems: ConfigProblem[];
  /** Things that work but may surprise (kind-format leniencies). */
  warnings: ConfigProblem[];
}

export interface ValidateOptions {
  format?: ConfigFormat;
  /** Check that host paths exist (relative ones against baseDir); left out, they are not checked. */
  hostPaths?: HostPaths;
}

/**
 * Checks a defaulted config. Pure (the host is reached only through `hostPaths`): returns every
 * problem found instead of stopping at the first, each with the field path and the fix; the
 * caller ties them to file positions.
 */
export function validateClusterConfig(
  config: ClusterConfig,
  options: ValidateOptions = {},
): ValidationResult {
  const problems = new ProblemList();
  validateName(config, problems);
  if (config.nodes.length === 0) {
    problems.add({
      path: ['nodes'],
      problem: 'is empty',
      hint: 'Add `- role: control-plane`, or remove nodes for a one-node cluster.',
    });
  }
  const controlPlanes = config.nodes.filter((n) => n.role === 'control-plane').length;
  const rolesValid = config.nodes.every((n) => (nodeRoles as readonly string[]).includes(n.role));
  if (config.nodes.length > 0 && controlPlanes === 0 && rolesValid) {
    problems.add({
      path: ['nodes'],
      problem: 'needs at least one node with role: control-plane',
      hint: 'Add `- role: control-plane` to nodes.',
    });
  }
  config.nodes.forEach((node, i) => validateNode(node, ['nodes', i], problems, options.hostPaths));
  validateNetworking(config, problems);
  validateComponentSettings(config, problems);
  validateRegistries(config, problems);
  validatePatches(config, problems, options.format === 'kind');
  return { problems: problems.errors, warnings: problems.warnings };
}

function validateName(config: ClusterConfig, problems: ProblemList): void {
  const { name } = config;
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(name)) {
    problems.add({
      path: ['name'],
      problem: `${JSON.stringify(name)} is not a valid cluster name`,
      hint: 'Use lower-case letters, digits and "-", starting and ending with a letter or digit (a DNS-1123 label), e.g. dev.',
    });
    return;
  }
  const roles = config.nodes.map((n) => n.role);
  const longest = containerNames(name, roles).reduce((a, b) => (b.length > a.length ? b : a), '');
  if (longest.length > maxNodeNameLength) {
    const allowed = name.length - (longest.length - maxNodeNameLength);
    problems.add({
      path: ['name'],
      problem: `is too long: the container name ${longest} has ${longest.length} characters, more than the ${maxNodeNameLength} a hostname and node name allow`,
      hint: `Use a name of at most ${allowed} characters.`,
    });
  }
}

/** Feature gates and the API server's runtime config. */
function validateComponentSettings(config: ClusterConfig, problems: ProblemList): void {
  for (const gate of Object.keys(config.featureGates)) {
    if (!/^[A-Za-z][A-Za-z0-9]*$/.test(gate)) {
      problems.add({
        path: ['featureGates', gate],
        problem: 'is not a feature gate name',
        hint: 'Feature gates are CamelCase names like InPlacePodVerticalScaling.',
      });
    }
  }
  for (const [key, value] of Object.entries(config.runtimeConfig)) {
    if (key === '' || /[,=\s]/.test(key)) {
      problems.add({
        path: ['runtimeConfig', key],
        problem: 'is not an API group/version (no commas, = or spaces)',
        hint: 'Use keys like api/alpha or resource.k8s.io/v1beta1.',
      });
    }
    if (/[,\s]/.test(value)) {
      problems.add({
        path: ['runtimeConfig', key],
        problem: `value ${JSON.stringify(value)} must not contain commas or spaces`,
        hint: 'Use "true" or "false".',
      });
    }
  }
}

/** Registry names as `kur create registry --name` accepts them, each named once. */
function validateRegistries(config: ClusterConfig, problems: ProblemList): void {
  const seen = new Set<string>();
  for (const [i, name] of config.registries.entries()) {
    const problem = registryNameProblem(name);
    if (problem !== undefined) {
      problems.add({ path: ['registries', i], problem, hint: registryNameHint });
    } else if (seen.has(name)) {
      problems.add({
        path: ['registries', i],
        problem: `names "${name}" twice`,
        hint: 'Name each registry once.',
      });
    }
    seen.add(name);
  }
}
