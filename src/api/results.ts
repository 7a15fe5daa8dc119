import type { ClusterNode, ClusterSummary } from '../cluster/clusters.js';
import type { CreatedCluster, CreatedNode } from '../cluster/create.js';
import type { DeletedCluster } from '../cluster/delete.js';
import type { StartedCluster, StoppedCluster } from '../cluster/lifecycle.js';
import type { LoadResult } from '../cluster/load.js';
import type { ServiceLoadBalancer } from '../cluster/load-balancers.js';
import type { ExportedLogs } from '../cluster/logs.js';
import type { BuiltNodeImage } from '../nodeimage/build.js';
import type { StepTiming } from '../ui/progress.js';
import type { InfoReport } from './info.js';

/**
 * The documented shapes of `kur ... --output json` (README "Machine-readable output"), one type a
 * command. The CLI prints them, the library returns their parts, and the e2e suites read them.
 */

/** A step's duration: top-level steps by title, sub-steps as `parent > child`; whole milliseconds. */
export interface PhaseTiming {
  phase: string;
  ms: number;
}

export interface VersionResult {
  kur: string;
  node: string;
  platform: string;
}

export type InfoResult = InfoReport;

export interface CreateClusterResult {
  name: string;
  context: string;
  server: string;
  /** null when no file was written. */
  kubeconfigPath: string | null;
  kubernetesVersion: string;
  nodes: CreatedNode[];
  timings: PhaseTiming[];
  totalMs: number;
}

export interface DeleteClustersResult {
  deleted: DeletedCluster[];
}

export interface StopClustersResult {
  stopped: StoppedCluster[];
}

export interface StartedClusterResult {
  name: string;
  context: string;
  server: string;
  nodes: CreatedNode[];
  timings: PhaseTiming[];
  totalMs: number;
}

export interface StartClustersResult {
  started: StartedClusterResult[];
}

/** Each summary exactly as `listClusters` returns it. */
export interface GetClustersResult {
  clusters: ClusterSummary[];
}

export interface GetNodesResult {
  cluster: string;
  nodes: ClusterNode[];
}

/** `kur get services`: the cluster's Service load balancers, each port with its host address. */
export interface GetServicesResult {
  cluster: string;
  services: ServiceLoadBalancer[];
}

export interface KubeconfigResult {
  kubeconfig: string;
  server: string;
  context: string;
}

export interface ExportKubeconfigResult {
  context: string;
  server: string;
  kubeconfigPath: string;
}

export type ExportLogsResult = ExportedLogs;

export type LoadImageResult = LoadResult;

export type BuildNodeImageResult = Omit<BuiltNodeImage, 'timings'> & { timings: PhaseTiming[] };

export function phaseTimings(timings: readonly StepTiming[]): PhaseTiming[] {
  return timings.map((t) => ({ phase: t.path.join(' > '), ms: Math.round(t.durationMs) }));
}

/** Wall time of a run: its top-level steps, which run one after another. */
export function totalDurationMs(timings: readonly StepTiming[]): number {
  return timings.filter((t) => t.path.length === 1).reduce((sum, t) => sum + t.durationMs, 0);
}

export function createClusterResult(created: CreatedCluster): CreateClusterResult {
  return {
    name: created.name,
    context: created.context,
    server: created.server,
    kubeconfigPath: created.kubeconfigPath ?? null,
    kubernetesVersion: created.kubernetesVersion,
    nodes: created.nodes,
    timings: phaseTimings(created.timings),
    totalMs: Math.round(totalDurationMs(created.timings)),
  };
}

export function startedClusterResult(started: StartedCluster): StartedClusterResult {
  return {
    name: started.name,
    context: started.context,
    server: started.server,
    nodes: started.nodes,
    timings: phaseTimings(started.timings),
    totalMs: Math.round(totalDurationMs(started.timings)),
  };
}

export function buildNodeImageResult(built: BuiltNodeImage): BuildNodeImageResult {
  return { ...built, timings: phaseTimings(built.timings) };
}
