/**
 * The contract between the node image (images/node, images/go) and the code that runs clusters:
 * where things live inside a node and what the entrypoint records about it. Everything that
 * names an in-node path or a node.env key imports it from here, so the image and the cluster code
 * cannot drift apart silently.
 */

/** The node image's entrypoint (images/node/usr/local/bin/kur-entrypoint). */
export const entrypointPath = '/usr/local/bin/kur-entrypoint';

/** kur's TCP load balancer (images/go/lb), run by the HA load-balancer container. */
export const loadBalancerBinary = '/usr/local/bin/kur-lb';

/** Degraded mode's runc wrapper (images/go/kur-runc): drops cgroup paths and limits. */
export const kurRuncPath = '/usr/local/bin/kur-runc';

/** In-node paths of the files kur writes or reads. */
export const nodePaths = {
  /** What kur-entrypoint learned at this boot, KEY=value lines (see {@link nodeEnvKeys}). */
  nodeEnv: '/etc/kur/node.env',
  /** The image's component manifest, written at build time. */
  manifest: '/etc/kur/manifest.json',
  kubeadmConfig: '/kur/kubeadm.yaml',
  containerdConfig: '/etc/containerd/config.toml',
  flannelManifest: '/kur/manifests/flannel.yaml',
  caCertificate: '/etc/kubernetes/pki/ca.crt',
  adminKubeconfig: '/etc/kubernetes/admin.conf',
} as const;

/** The keys kur-entrypoint writes to {@link nodePaths.nodeEnv}. */
export const nodeEnvKeys = {
  userns: 'KUR_USERNS',
  capSysResource: 'KUR_CAP_SYS_RESOURCE',
  cgroupVersion: 'KUR_CGROUP_VERSION',
  cgroupWritable: 'KUR_CGROUP_WRITABLE',
  snapshotter: 'KUR_SNAPSHOTTER',
  iptables: 'KUR_IPTABLES',
} as const;

/** The facts kur-entrypoint wrote to /etc/kur/node.env at this boot. */
export interface NodeFacts {
  userns: boolean;
  cgroupVersion: 1 | 2;
  cgroupWritable: boolean;
  /** The node holds CAP_SYS_RESOURCE (it cannot lower oom_score_adj without it). */
  capSysResource: boolean;
  snapshotter: string;
  iptables: string;
  raw: Record<string, string>;
}

export function parseNodeEnv(text: string): NodeFacts {
  const raw: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const match = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (match !== null) raw[match[1]!] = match[2]!.replace(/^"(.*)"$/, '$1');
  }
  const k = nodeEnvKeys;
  return {
    userns: raw[k.userns] === 'true',
    cgroupVersion: raw[k.cgroupVersion] === '2' ? 2 : 1,
    cgroupWritable: raw[k.cgroupWritable] === 'true',
    capSysResource: raw[k.capSysResource] !== 'false',
    snapshotter: raw[k.snapshotter] ?? 'overlayfs',
    iptables: raw[k.iptables] ?? 'nft',
    raw,
  };
}
