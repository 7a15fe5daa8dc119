/**
 * The labels that mark everything kur creates on an engine. Cluster state lives in them, not in
 * local files, so listing and cleanup work from any machine that reaches the engine.
 */
export const labelPrefix = 'dev.kur.';

export const labels = {
  /** Name of the cluster an object belongs to. */
  cluster: 'dev.kur.cluster',
  /** control-plane, worker, load-balancer. */
  role: 'dev.kur.role',
  /** Node name inside the cluster. */
  node: 'dev.kur.node',
  /** Objects kur creates for itself (probe images and containers), not for a cluster. */
  managed: 'dev.kur.managed',
  /** Set on everything a test creates, so a test run can prove it left nothing behind. */
  test: 'dev.kur.test',
} as const;
