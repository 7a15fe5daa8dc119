import type { NodeRole } from './types.js';

/** Container, hostname and Kubernetes node names must fit a DNS label (and HOST_NAME_MAX). */
export const maxNodeNameLength = 63;

/** kur's default cluster name; `kur create cluster` with no name creates `kur`. */
export const defaultClusterName = 'kur';

/**
 * Node container names, kind-style and stable: per role, the first node has no number, the
 * next ones count from 2 (`dev-control-plane`, `dev-control-plane2`, `dev-worker`, `dev-worker2`).
 */
export function nodeNames(clusterName: string, roles: readonly NodeRole[]): string[] {
  const seen = new Map<NodeRole, number>();
  return roles.map((role) => {
    const n = (seen.get(role) ?? 0) + 1;
    seen.set(role, n);
    return `${clusterName}-${role}${n === 1 ? '' : String(n)}`;
  });
}

/** The HA load balancer container, present when there is more than one control plane. */
export function loadBalancerName(clusterName: string): string {
  return `${clusterName}-external-load-balancer`;
}

export function needsLoadBalancer(roles: readonly NodeRole[]): boolean {
  return roles.filter((r) => r === 'control-plane').length > 1;
}

/** The kubeconfig context (and cluster and user entry) name for a cluster. */
export function contextName(clusterName: string): string {
  return `kur-${clusterName}`;
}

/** Every container name a cluster of these roles uses, load balancer included. */
export function containerNames(clusterName: string, roles: readonly NodeRole[]): string[] {
  const names = nodeNames(clusterName, roles);
  return needsLoadBalancer(roles) ? [...names, loadBalancerName(clusterName)] : names;
}

/** `kur create registry` with no name creates this one. */
export const defaultRegistryName = 'kur-registry';

export const registryNameHint =
  'A registry name is a DNS label: lowercase letters, digits and "-", at most 63 characters (e.g. kur-registry).';

/**
 * Why `name` cannot name a local registry, or undefined when it can. Nodes reach a registry by its
 * container name on the kur network, so the name must resolve as a DNS label.
 */
export function registryNameProblem(name: string): string | undefined {
  if (!/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/.test(name)) return `"${name}" is not a valid registry name`;
  return undefined;
}
