import { cidrsOverlap, isIpAddress, isWildcardAddress } from './net.js';
import type { ConfigPath, ProblemList } from './problems.js';
import type { ClusterConfig } from './types.js';
import { kubeProxyModes } from './types.js';
import { checkCidr, checkPort, suggestion } from './validate-values.js';

/** Flannel and kube-controller-manager give each node a /24 of the pod subnet. */
const nodePodPrefix = 24;

export function validateNetworking(config: ClusterConfig, problems: ProblemList): void {
  const net = config.networking;
  if (!isIpAddress(net.apiServerAddress)) {
    problems.add({
      path: ['networking', 'apiServerAddress'],
      problem: `${JSON.stringify(net.apiServerAddress)} is not an IP address`,
      hint: 'Use 127.0.0.1 (the default) or another host IP.',
    });
  }
  checkPort(net.apiServerPort, ['networking', 'apiServerPort'], true, problems);
  const pod = checkCidr(net.podSubnet, ['networking', 'podSubnet'], problems);
  const service = checkCidr(net.serviceSubnet, ['networking', 'serviceSubnet'], problems);
  if (pod !== undefined && pod.prefix > nodePodPrefix) {
    problems.add({
      path: ['networking', 'podSubnet'],
      problem: `/${pod.prefix} is too small: each node gets a /${nodePodPrefix}`,
      hint: 'Use a /16 (the default is 10.244.0.0/16).',
    });
  } else if (pod !== undefined && 2 ** (nodePodPrefix - pod.prefix) < config.nodes.length) {
    problems.add({
      path: ['networking', 'podSubnet'],
      problem: `/${pod.prefix} holds ${2 ** (nodePodPrefix - pod.prefix)} node subnets (/${nodePodPrefix}) for ${config.nodes.length} nodes`,
      hint: 'Use a larger pod subnet, e.g. a /16.',
    });
  }
  if (service !== undefined && service.prefix > 28) {
    problems.add({
      path: ['networking', 'serviceSubnet'],
      problem: `/${service.prefix} is too small for the API server and DNS service addresses`,
      hint: 'Use a /16 (the default is 10.96.0.0/16) or at least a /28.',
    });
  }
  if (pod !== undefined && service !== undefined && cidrsOverlap(pod, service)) {
    problems.add({
      path: ['networking', 'serviceSubnet'],
      problem: `${net.serviceSubnet} overlaps podSubnet ${net.podSubnet}`,
      hint: 'Use disjoint ranges, e.g. podSubnet 10.244.0.0/16 and serviceSubnet 10.96.0.0/16.',
    });
  }
  if (!(kubeProxyModes as readonly string[]).includes(net.kubeProxyMode)) {
    problems.add({
      path: ['networking', 'kubeProxyMode'],
      problem: `must be one of ${kubeProxyModes.join(', ')}, got ${JSON.stringify(net.kubeProxyMode)}`,
      hint: suggestion(net.kubeProxyMode, kubeProxyModes),
    });
  }
  validateHostPorts(config, problems);
}

interface Claim {
  order: number;
  path: ConfigPath;
  address: string;
  protocol: string;
  port: number;
  what: string;
}

/**
 * Two host ports collide when protocol and port match and the addresses overlap (equal, or one
 * is a wildcard). Claims are grouped by protocol and port, so the check is linear.
 */
function validateHostPorts(config: ClusterConfig, problems: ProblemList): void {
  const groups = new Map<string, { byAddress: Map<string, Claim>; wildcard?: Claim; first?: Claim }>();
  let order = 0;
  const claim = (claimed: Omit<Claim, 'order'>): void => {
    const c = { ...claimed, order: order++ };
    const key = `${c.protocol}/${c.port}`;
    const group = groups.get(key) ?? { byAddress: new Map<string, Claim>() };
    groups.set(key, group);
    const earlier = isWildcardAddress(c.address)
      ? group.first
      : earliest(group.wildcard, group.byAddress.get(c.address));
    if (earlier !== undefined) {
      problems.add({
        path: c.path,
        problem: `host port ${c.protocol} ${c.address}:${c.port} is already taken by ${earlier.what} (${earlier.address}:${earlier.port})`,
        hint: 'Use a different hostPort, or 0 to let kur pick one.',
      });
    }
    group.first ??= c;
    if (isWildcardAddress(c.address)) group.wildcard ??= c;
    if (!group.byAddress.has(c.address)) group.byAddress.set(c.address, c);
  };
  const net = config.networking;
  if (net.apiServerPort !== 0) {
    claim({
      path: ['networking', 'apiServerPort'],
      address: net.apiServerAddress,
      protocol: 'TCP',
      port: net.apiServerPort,
      what: 'networking.apiServerPort',
    });
  }
  config.nodes.forEach((node, i) =>
    node.extraPortMappings.forEach((p, j) => {
      if (p.hostPort === 0) return;
      claim({
        path: ['nodes', i, 'extraPortMappings', j, 'hostPort'],
        address: p.listenAddress,
        protocol: p.protocol,
        port: p.hostPort,
        what: `nodes[${i}].extraPortMappings[${j}]`,
      });
    }),
  );
}

function earliest(a: Claim | undefined, b: Claim | undefined): Claim | undefined {
  if (a === undefined || b === undefined) return a ?? b;
  return a.order < b.order ? a : b;
}
