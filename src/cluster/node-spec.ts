import type { Mount, PortMapping } from '../config/types.js';
import type { EngineInfo } from '../engine/detect.js';
import { labels } from '../engine/labels.js';
import { privilegeSpec } from '../engine/privilege.js';
import type { ContainerSpec, MountPropagation, MountSpec, PortBinding } from '../engine/types.js';
import type { ClusterPlan, LoadBalancerPlan, NodePlan } from '../kube/plan.js';
import { loadBalancerBinary } from '../node/layout.js';

/** The engine network every kur cluster's nodes join. */
export const clusterNetworkName = 'kur';

/** Facts about the engine's host that shape node containers (read only for local engines). */
export interface NodeHostFacts {
  /** The host has /lib/modules (the node mounts it read-only so kube-proxy can load modules). */
  hasLibModules: boolean;
  /** The host has /dev/fuse (rootless nodes get it for fuse-overlayfs; asking for a missing device fails). */
  hasDevFuse: boolean;
}

// Nested containers need syscalls and mounts the engines' default profiles refuse.
const baseSecurityOpt = ['seccomp=unconfined', 'apparmor=unconfined'];

/** The labels that make a container findable as part of a cluster (and deletable by kur). */
export function clusterLabels(cluster: string, role: string, node: string): Record<string, string> {
  return { [labels.cluster]: cluster, [labels.role]: role, [labels.node]: node };
}

/** What a node keeps for life: the run that made it and its static address. */
export interface NodeIdentity {
  runId: string;
  ipv4: string;
}

function identityLabels(identity: NodeIdentity): Record<string, string> {
  return { [labels.run]: identity.runId, [labels.ipv4]: identity.ipv4 };
}

const propagation: Record<Mount['propagation'], MountPropagation> = {
  None: 'rprivate',
  HostToContainer: 'rslave',
  Bidirectional: 'rshared',
};

function portBinding(mapping: PortMapping): PortBinding {
  return {
    containerPort: mapping.containerPort,
    protocol: mapping.protocol.toLowerCase() as PortBinding['protocol'],
    hostIp: mapping.listenAddress,
    hostPort: mapping.hostPort,
  };
}

/**
 * How long systemd in a node gets to halt before the engine kills it. A full halt takes over
 * 5 s (every pod stopped gracefully); nothing in a node needs it: etcd's WAL and containerd's
 * metadata are written before they are acknowledged, and a killed process loses nothing the
 * kernel already holds, so the node comes back intact either way.
 */
export const nodeStopTimeoutSeconds = 1;

/**
 * A node container: systemd as PID 1 behind kur's entrypoint, privileged (or the explicit
 * capability fallback detection chose), its own cgroup namespace, tmpfs on /run and /tmp, and
 * an anonymous volume on /var because the containerd inside needs a real filesystem for its
 * snapshots (overlay on overlay is refused).
 */
export function nodeContainerSpec(
  plan: ClusterPlan,
  node: NodePlan,
  engine: Pick<EngineInfo, 'provider' | 'rootless' | 'privilege'>,
  host: NodeHostFacts,
  identity: NodeIdentity,
): ContainerSpec {
  const nodeLabels = {
    ...clusterLabels(plan.name, node.role, node.name),
    ...identityLabels(identity),
    // `kur delete registry` refuses to remove a registry a cluster pulls through.
    ...(plan.config.registries.length > 0 ? { [labels.registries]: plan.config.registries.join(',') } : {}),
  };
  const mounts: MountSpec[] = [
    { type: 'volume', target: '/var', labels: nodeLabels },
    ...(host.hasLibModules
      ? [{ type: 'bind' as const, source: '/lib/modules', target: '/lib/modules', readOnly: true }]
      : []),
    ...node.mounts.map((m): MountSpec => ({
      type: 'bind',
      source: m.hostPath,
      target: m.containerPath,
      readOnly: m.readOnly,
      propagation: propagation[m.propagation],
    })),
  ];
  const privilege = privilegeSpec(engine.privilege, engine.provider);
  return {
    name: node.name,
    image: node.image,
    hostname: node.name,
    labels: nodeLabels,
    ...privilege,
    // Rootless engines do not pass /dev/fuse even to privileged containers; fuse-overlayfs needs it.
    ...(engine.rootless && host.hasDevFuse ? { devices: [{ hostPath: '/dev/fuse' }] } : {}),
    securityOpt: [...new Set([...(privilege.securityOpt ?? []), ...baseSecurityOpt])],
    cgroupnsMode: 'private',
    tmpfs: { '/run': 'rw', '/tmp': 'rw' },
    mounts,
    ports: node.portMappings.map(portBinding),
    network: { name: clusterNetworkName, aliases: [node.name], ipv4Address: identity.ipv4 },
    // systemd halts cleanly on SIGRTMIN+3; SIGTERM would make it re-execute itself.
    stopSignal: 'SIGRTMIN+3',
    // The engine stops nodes with this timeout on its own shutdown too (a reboot, a daemon update).
    stopTimeoutSeconds: nodeStopTimeoutSeconds,
    // Back after every engine restart (on-failure counts restarts and gives up after its limit),
    // yet stays down after `kur stop cluster`.
    restartPolicy: { name: 'unless-stopped' },
    tty: true,
    init: false,
    // Podman defaults to 2048 processes per container: far too few for a node running pods.
    pidsLimit: -1,
  };
}

/**
 * The HA load balancer: the node image running kur-lb in front of every control plane. It needs
 * no privileges and no systemd; backends are container names, resolved at each connect.
 */
export function loadBalancerContainerSpec(
  plan: ClusterPlan,
  lb: LoadBalancerPlan,
  identity: NodeIdentity,
): ContainerSpec {
  return {
    name: lb.name,
    image: lb.image,
    hostname: lb.name,
    labels: { ...clusterLabels(plan.name, 'load-balancer', lb.name), ...identityLabels(identity) },
    entrypoint: [
      loadBalancerBinary,
      '--listen',
      `:${lb.containerPort}`,
      ...lb.backends.flatMap((backend) => ['--backend', `${backend}:${lb.containerPort}`]),
    ],
    cmd: [],
    ports: lb.portMappings.map(portBinding),
    network: { name: clusterNetworkName, aliases: [lb.name], ipv4Address: identity.ipv4 },
    restartPolicy: { name: 'unless-stopped' },
    // kur-lb is PID 1 and stops on SIGTERM; the node image's SIGRTMIN+3 is systemd's, and a PID 1
    // without a handler ignores it, so every stop would wait out the timeout.
    stopSignal: 'SIGTERM',
    stopTimeoutSeconds: 2,
  };
}
