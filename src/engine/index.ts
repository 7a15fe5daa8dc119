// The engine layer's public surface, for the cluster code and for library users.
export { connectEngine, type ConnectOptions } from './connect.js';
export {
  detectEngine,
  readEngineFacts,
  clearDetectionCache,
  type EngineInfo,
  type DetectOptions,
} from './detect.js';
export type { EngineFacts } from './engine-facts.js';
export {
  resolveEndpoint,
  providerFromEnv,
  providerName,
  type ResolveOptions,
  type Prober,
} from './endpoint.js';
export { openEngine, probeConnection } from './docker-api.js';
export { privilegeSpec, probePrivilege, type PrivilegeMode, type PrivilegeSpec } from './privilege.js';
export { writeFiles, readFile } from './files.js';
export { labels, labelPrefix } from './labels.js';
export type * from './types.js';
