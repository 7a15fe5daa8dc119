import { labels } from '../engine/labels.js';
import type { ContainerSpec } from '../engine/types.js';
import { loadBalancerBinary } from '../node/layout.js';
import { clusterLabels, clusterNetworkName } from './node-spec.js';

/**
 * Services of type LoadBalancer, the pure half: which Services kur serves, what each one's
 * load-balancer container looks like, how its state is recorded in labels, and what has to change
 * (create, re-create, remove) to match the cluster. The engine and API calls live in
 * load-balancers.ts.
 */

/** The role label of a Service's load-balancer container (the HA API server's is `load-balancer`). */
export const serviceLoadBalancerRole = 'service-load-balancer';

/** The annotation that tells users the host port of each Service port: `80/TCP=8080,443/TCP=30443`. */
export const hostPortsAnnotation = 'kur.dev/load-balancer-ports';

/** Where host ports are published, on every engine: rootless container networks are not reachable from the host. */
export const loadBalancerHostIp = '127.0.0.1';

/** The fields of a Kubernetes Service that kur reads. */
export interface KubeService {
  metadata: {
    namespace: string;
    name: string;
    uid: string;
    resourceVersion?: string;
    annotations?: Record<string, string>;
  };
  spec?: {
    type?: string;
    loadBalancerClass?: string;
    ports?: { name?: string; protocol?: string; port: number; nodePort?: number }[];
  };
  status?: { loadBalancer?: { ingress?: { ip?: string; hostname?: string; ipMode?: string }[] } };
}

export interface ServiceRef {
  namespace: string;
  name: string;
  uid: string;
}

/** One proxied Service port: the nodes serve it on `nodePort`, the host on `hostPort`. */
export interface LoadBalancerPort {
  port: number;
  protocol: 'TCP';
  nodePort: number;
  hostPort: number;
}

/** What a load-balancer container is made from; recorded in its labels. */
export interface LoadBalancerRecord {
  service: ServiceRef;
  ports: LoadBalancerPort[];
  /** Node IPv4 addresses on the kur network. */
  backends: string[];
}

/** A Service's wish before host ports are chosen: `hostPort` 0 means "choose one". */
export type WantedLoadBalancer = LoadBalancerRecord;

export function serviceRef(service: KubeService): ServiceRef {
  const { namespace, name, uid } = service.metadata;
  return { namespace, name, uid };
}

export function serviceKey(ref: Pick<ServiceRef, 'namespace' | 'name'>): string {
  return `${ref.namespace}/${ref.name}`;
}

/** A Service kur gives an address: type LoadBalancer and no loadBalancerClass (those belong to another controller). */
export function wantsLoadBalancer(service: KubeService): boolean {
  return service.spec?.type === 'LoadBalancer' && service.spec.loadBalancerClass === undefined;
}

/**
 * The ports kur proxies (TCP with a nodePort), and a line for each one it leaves out: kur-lb is a
 * TCP proxy, and without a nodePort (`allocateLoadBalancerNodePorts: false`) the nodes do not
 * serve the port where kur-lb can reach it.
 */
export function proxiedPorts(service: KubeService): {
  ports: Omit<LoadBalancerPort, 'hostPort'>[];
  skipped: string[];
} {
  const ports: Omit<LoadBalancerPort, 'hostPort'>[] = [];
  const skipped: string[] = [];
  for (const p of service.spec?.ports ?? []) {
    const protocol = p.protocol ?? 'TCP';
    if (protocol !== 'TCP') skipped.push(`port ${p.port}/${protocol} skipped: only TCP is proxied`);
    else if (p.nodePort === undefined || p.nodePort === 0)
      skipped.push(`port ${p.port}/TCP skipped: it has no nodePort (allocateLoadBalancerNodePorts is false)`);
    else ports.push({ port: p.port, protocol: 'TCP', nodePort: p.nodePort });
  }
  return { ports, skipped };
}

/** `<cluster>-lb.<namespace>.<name>`: namespaces and Service names hold no dots, so names cannot collide. */
export function loadBalancerContainerName(
  cluster: string,
  ref: Pick<ServiceRef, 'namespace' | 'name'>,
): string {
  return `${cluster}-lb.${ref.namespace}.${ref.name}`;
}

/** `80/TCP=8080,443/TCP=30443`: each Service port with the number `pick` gives (host port, node port). */
export function formatPortMap(ports: readonly LoadBalancerPort[], pick: 'hostPort' | 'nodePort'): string {
  return ports.map((p) => `${p.port}/${p.protocol}=${p[pick]}`).join(',');
}

function parsePortMap(text: string | undefined): Map<string, number> {
  const map = new Map<string, number>();
  for (const pair of (text ?? '').split(',')) {
    const [key, value] = pair.split('=');
    if (key !== undefined && key !== '' && value !== undefined) map.set(key, Number(value));
  }
  return map;
}

export function loadBalancerLabels(cluster: string, record: LoadBalancerRecord): Record<string, string> {
  return {
    ...clusterLabels(cluster, serviceLoadBalancerRole, loadBalancerContainerName(cluster, record.service)),
    [labels.service]: serviceKey(record.service),
    [labels.serviceUid]: record.service.uid,
    [labels.hostPorts]: formatPortMap(record.ports, 'hostPort'),
    [labels.nodePorts]: formatPortMap(record.ports, 'nodePort'),
    [labels.backends]: record.backends.join(','),
  };
}

/** Reads a record back from a container's labels; undefined for anything but a Service load balancer. */
export function recordFromLabels(values: Record<string, string>): LoadBalancerRecord | undefined {
  if (values[labels.role] !== serviceLoadBalancerRole) return undefined;
  const [namespace, name] = (values[labels.service] ?? '').split('/');
  const uid = values[labels.serviceUid];
  if (namespace === undefined || name === undefined || uid === undefined) return undefined;
  const hostPorts = parsePortMap(values[labels.hostPorts]);
  const nodePorts = parsePortMap(values[labels.nodePorts]);
  const ports = [...hostPorts].map(([key, hostPort]): LoadBalancerPort => {
    const [port] = key.split('/');
    return { port: Number(port), protocol: 'TCP', nodePort: nodePorts.get(key) ?? 0, hostPort };
  });
  const backends = (values[labels.backends] ?? '').split(',').filter((b) => b !== '');
  return { service: { namespace, name, uid }, ports, backends };
}

/**
 * A Service's load balancer: the node image running kur-lb, one route per port, listening in the
 * container on the host port (at least 1024, so it needs no capability at all) and published on
 * 127.0.0.1 with that explicit port, which the engine keeps across its restarts.
 */
export function loadBalancerSpec(cluster: string, image: string, record: LoadBalancerRecord): ContainerSpec {
  return {
    name: loadBalancerContainerName(cluster, record.service),
    image,
    labels: loadBalancerLabels(cluster, record),
    entrypoint: [
      loadBalancerBinary,
      ...record.ports.flatMap((p) => [
        '--route',
        `:${p.hostPort}=${record.backends.map((b) => `${b}:${p.nodePort}`).join(',')}`,
      ]),
    ],
    cmd: [],
    capDrop: ['ALL'],
    ports: record.ports.map((p) => ({
      containerPort: p.hostPort,
      protocol: 'tcp',
      hostIp: loadBalancerHostIp,
      hostPort: p.hostPort,
    })),
    network: { name: clusterNetworkName },
    restartPolicy: { name: 'unless-stopped' },
    // The node image's stop signal is systemd's; kur-lb stops cleanly on SIGTERM.
    stopSignal: 'SIGTERM',
    stopTimeoutSeconds: 2,
  };
}

export interface ExistingLoadBalancer {
  id: string;
  name: string;
  state: string;
  record: LoadBalancerRecord;
}

export interface LoadBalancerChanges {
  /** Containers to remove: Service gone or no longer a LoadBalancer, or about to be re-created. */
  remove: ExistingLoadBalancer[];
  /** Containers to create; ports whose `hostPort` is 0 need one chosen. */
  create: WantedLoadBalancer[];
  /** Containers that match their Service already (start them when they never started). */
  keep: ExistingLoadBalancer[];
  /** Per Service (`namespace/name`), the ports left out and why. */
  skipped: Map<string, string[]>;
}

function sameShape(a: LoadBalancerRecord, b: LoadBalancerRecord): boolean {
  const shape = (r: LoadBalancerRecord): string =>
    JSON.stringify([r.ports.map((p) => [p.port, p.protocol, p.nodePort]), [...r.backends].sort()]);
  return shape(a) === shape(b);
}

/**
 * What to change so that every Service that wants a load balancer has exactly one container that
 * matches it. A changed Service (ports, nodePorts) or node set gets a new container; ports it had
 * before keep their host ports, so an address a user knows stays valid.
 */
export function planLoadBalancerChanges(
  services: readonly KubeService[],
  existing: readonly ExistingLoadBalancer[],
  backends: readonly string[],
): LoadBalancerChanges {
  const changes: LoadBalancerChanges = { remove: [], create: [], keep: [], skipped: new Map() };
  const byUid = new Map<string, ExistingLoadBalancer[]>();
  for (const e of existing) byUid.set(e.record.service.uid, [...(byUid.get(e.record.service.uid) ?? []), e]);
  const wanted = new Set<string>();
  for (const service of services) {
    if (!wantsLoadBalancer(service)) continue;
    const ref = serviceRef(service);
    const { ports, skipped } = proxiedPorts(service);
    if (skipped.length > 0) changes.skipped.set(serviceKey(ref), skipped);
    if (ports.length === 0) continue;
    wanted.add(ref.uid);
    const [current, ...duplicates] = byUid.get(ref.uid) ?? [];
    changes.remove.push(...duplicates);
    const previous = new Map(current?.record.ports.map((p) => [p.port, p.hostPort]) ?? []);
    const wish: WantedLoadBalancer = {
      service: ref,
      ports: ports.map((p) => ({ ...p, hostPort: previous.get(p.port) ?? 0 })),
      backends: [...backends],
    };
    if (current !== undefined && sameShape(current.record, wish)) {
      changes.keep.push(current);
      continue;
    }
    if (current !== undefined) changes.remove.push(current);
    changes.create.push(wish);
  }
  changes.remove.push(...existing.filter((e) => !wanted.has(e.record.service.uid)));
  return changes;
}

/** The ingress kur reports: the host's loopback, with ipMode Proxy so kube-proxy does not claim 127.0.0.1 in the nodes. */
export const loadBalancerIngress = [{ ip: loadBalancerHostIp, ipMode: 'Proxy' }];

/**
 * The merge patches that bring a Service's status and annotation in line with its load balancer
 * (`record`), or clear what kur wrote when it has none. Undefined when nothing differs, so a
 * reconcile that changes nothing writes nothing (each write is a watch event).
 */
export function servicePatches(
  service: KubeService,
  record: LoadBalancerRecord | undefined,
): { status?: unknown; metadata?: unknown } {
  const ingress = service.status?.loadBalancer?.ingress ?? [];
  const annotation = service.metadata.annotations?.[hostPortsAnnotation];
  const patches: { status?: unknown; metadata?: unknown } = {};
  if (record !== undefined) {
    if (JSON.stringify(ingress) !== JSON.stringify(loadBalancerIngress))
      patches.status = { status: { loadBalancer: { ingress: loadBalancerIngress } } };
    const ports = formatPortMap(record.ports, 'hostPort');
    if (annotation !== ports)
      patches.metadata = { metadata: { annotations: { [hostPortsAnnotation]: ports } } };
    return patches;
  }
  // Only what kur wrote is cleared: another controller's addresses are left alone.
  if (annotation !== undefined) {
    patches.metadata = { metadata: { annotations: { [hostPortsAnnotation]: null } } };
    if (JSON.stringify(ingress) === JSON.stringify(loadBalancerIngress))
      patches.status = { status: { loadBalancer: { ingress: null } } };
  }
  return patches;
}

/**
 * The host port for one Service port: the Service's own port when it is at least 1024, nobody
 * holds it and it binds on 127.0.0.1 (`ownPortFree`), so `localhost:8080` serves port 8080;
 * otherwise the first of the kernel's free ports (`candidates`) nobody holds.
 */
export function preferredHostPort(
  servicePort: number,
  taken: ReadonlySet<number>,
  ownPortFree: boolean,
): number | undefined {
  return servicePort >= 1024 && !taken.has(servicePort) && ownPortFree ? servicePort : undefined;
}
