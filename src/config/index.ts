// The cluster config: schema types, loading (parse -> decode -> defaults -> validate), names.
export type * from './types.js';
export { kindApiVersion, kurApiVersion, supportedApiVersions } from './types.js';
export { defaultClusterConfig, loadClusterConfig, normalizeClusterConfig } from './load.js';
export type { LoadClusterConfigOptions } from './load.js';
export { defaults } from './defaults.js';
export {
  contextName,
  containerNames,
  defaultClusterName,
  loadBalancerName,
  needsLoadBalancer,
  nodeNames,
} from './names.js';
