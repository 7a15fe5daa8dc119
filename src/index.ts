// The library entry point: `import { ... } from 'kur'`. Each call opens the engine and closes it.
import './api/dispose-symbol.js';

export { createCluster } from './api/create-cluster.js';
export { defaultWait, type CreateClusterOptions } from './api/create-options.js';
export { Cluster, type ClusterStartOptions } from './api/cluster-handle.js';
export {
  deleteCluster,
  exportLogs,
  getKubeconfig,
  getNodes,
  listClusters,
  type ClusterOptions,
  type ClusterRef,
  type DeleteClusterOptions,
  type ExportLogsOptions,
  type GetKubeconfigOptions,
} from './api/clusters.js';
export {
  buildNodeImage,
  loadImage,
  type BuildNodeImageOptions,
  type LoadImageOptions,
} from './api/images.js';
export { info, type InfoReport } from './api/info.js';
export { getServices, serveLoadBalancers, type ServeLoadBalancersOptions } from './api/load-balancers.js';
export { defaultKubeconfigPath } from './api/kubeconfig-path.js';
export {
  createRegistry,
  deleteRegistry,
  getRegistries,
  type CreateRegistryOptions,
  type DeleteRegistryOptions,
} from './api/registries.js';
export type { RegistryRecord } from './cluster/registry/spec.js';
export type { DeletedRegistry } from './cluster/registry/registries.js';
export {
  startCluster,
  stopCluster,
  type StartClusterOptions,
  type StopClusterOptions,
} from './api/lifecycle.js';
export type * from './api/results.js';
export type { EngineOptions, ProgressEmitter, ProgressOptions } from './api/common.js';

export type { CreatedNode } from './cluster/create.js';
export type { DeletedCluster } from './cluster/delete.js';
export type { StartedCluster, StoppedCluster } from './cluster/lifecycle.js';
export type { ClusterNode, ClusterSummary } from './cluster/clusters.js';
export type { LoadResult } from './cluster/load.js';
export type { ServiceLoadBalancer } from './cluster/load-balancers.js';
export type { LoadBalancerPort } from './cluster/service-load-balancer.js';
export type { ExportedLogs } from './cluster/logs.js';
export type { BuiltNodeImage, NodeImageManifest, ComponentRecord } from './nodeimage/build.js';
export { defaultNodeImage, nodeImageName } from './nodeimage/defaults.js';

export type {
  ClusterConfig,
  ClusterConfigInput,
  Json6902PatchInput,
  KubeProxyMode,
  MountInput,
  MountPropagation,
  NetworkingConfigInput,
  NodeConfigInput,
  NodeRole,
  PortMappingInput,
  PortProtocol,
} from './config/types.js';
export { kurApiVersion, kindApiVersion } from './config/types.js';

export type { ProgressEvent, ProgressListener, StepTiming } from './ui/progress.js';
export { createLogger, silentLogger, type Logger, type LogLevel, type LogSink } from './util/logger.js';
export { KurError, exitCodes, isKurError, type ErrorKind } from './util/errors.js';
export { kurVersion } from './version.js';
