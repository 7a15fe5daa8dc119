import {
  listServiceLoadBalancers,
  serveLoadBalancers as serveLoadBalancersCore,
  type ServiceLoadBalancer,
} from '../cluster/load-balancers.js';
import { defaultClusterName } from '../config/names.js';
import { target, type ClusterOptions } from './clusters.js';
import { callLogger, withEngine, type EngineOptions } from './common.js';

export interface ServeLoadBalancersOptions extends EngineOptions {
  /** The cluster whose Services to serve. Default `kur`, like the CLI. */
  name?: string;
  /** Stops serving; the promise then resolves. The load-balancer containers keep running. */
  signal: AbortSignal;
  /** Reconcile this often even without Service events, in milliseconds. Default 15000. */
  resyncMs?: number;
}

/**
 * Gives every Service of type LoadBalancer of a cluster an address on the host, like
 * `kur serve load-balancers`, until `signal` aborts: one load-balancer container per Service
 * publishing its ports on 127.0.0.1, the address in `status.loadBalancer.ingress` and the host
 * ports in the Service's `kur.dev/load-balancer-ports` annotation. Rejects when the cluster does
 * not exist, is not running, or is deleted while being served.
 */
export function serveLoadBalancers(options: ServeLoadBalancersOptions): Promise<void> {
  return withEngine(options, (engine) =>
    serveLoadBalancersCore({
      engine,
      logger: callLogger(options),
      name: options.name ?? defaultClusterName,
      signal: options.signal,
      ...(options.resyncMs !== undefined ? { resyncMs: options.resyncMs } : {}),
    }),
  );
}

/** A cluster's Service load balancers and their host ports, like `kur get services`. */
export function getServices(options: ClusterOptions): Promise<ServiceLoadBalancer[]> {
  const { name, engine } = target(options.cluster, options);
  return withEngine(engine, (e) => listServiceLoadBalancers(e, name));
}
