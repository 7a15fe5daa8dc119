/** Cluster configs the suites and benchmarks share. */

/** One control plane and two workers: the multi-node shape of the issues' targets. */
export const threeNodeConfig = [
  'apiVersion: kur.dev/v1alpha1',
  'kind: Cluster',
  'nodes:',
  '  - role: control-plane',
  '  - role: worker',
  '  - role: worker',
  '',
].join('\n');

/**
 * Two control planes behind kur's load balancer: the HA shape (a second API server and etcd
 * member, the load balancer with its own address), kept small for a 2-core CI machine.
 */
export const haConfig = [
  'apiVersion: kur.dev/v1alpha1',
  'kind: Cluster',
  'nodes:',
  '  - role: control-plane',
  '  - role: control-plane',
  '',
].join('\n');

/** The median of samples (the mean of the middle two for an even count). */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  if (sorted.length === 0) return Number.NaN;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
