import type { ClusterConfig } from '../config/types.js';
import type { PreflightRequest } from '../preflight/index.js';

/**
 * Whether a rootless engine that cannot delegate cgroups gets a degraded cluster or a refusal.
 * See the README's rootless section for the evidence behind the choice.
 */
export const rootlessWithoutCgroups: PreflightRequest['rootlessWithoutCgroups'] = 'supported-degraded';

export function preflightRequest(config: ClusterConfig): PreflightRequest {
  const hostPorts = config.nodes.flatMap((n) => n.extraPortMappings);
  if (config.networking.apiServerPort !== 0) {
    hostPorts.push({
      containerPort: 6443,
      hostPort: config.networking.apiServerPort,
      listenAddress: config.networking.apiServerAddress,
      protocol: 'TCP',
    });
  }
  return {
    hostPorts: hostPorts
      .filter((p) => p.hostPort !== 0)
      .map((p) => ({
        address: p.listenAddress,
        port: p.hostPort,
        protocol: p.protocol.toLowerCase() as 'tcp' | 'udp' | 'sctp',
      })),
    nodeCount: config.nodes.length,
    rootlessWithoutCgroups,
    defaultCni: !config.networking.disableDefaultCNI,
    kubeProxyMode: config.networking.kubeProxyMode,
  };
}
