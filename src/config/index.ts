// The cluster config: schema types, loading (parse -> decode -> defaults -> validate), names.
export type * from './types.js';
export { kindApiVersion, kurApiVersion, supportedApiVersions } from './types.js';
export {
  configLocator,
  defaultClusterConfig,
  loadClusterConfig,
  localHostPaths,
  normalizeClusterConfig,
} from './load.js';
export type { HostPaths, LoadClusterConfigOptions } from './load.js';
export { createHostPaths } from './host-paths.js';
export { maxListedProblems } from './problems.js';
export { maxConfigBytes } from './source.js';
export { defaults } from './defaults.js';
export {
  contextName,
  containerNames,
  defaultClusterName,
  loadBalancerName,
  needsLoadBalancer,
  nodeNames,
} from './names.js';
