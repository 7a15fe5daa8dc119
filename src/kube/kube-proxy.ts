import type { KubeProxyMode } from '../config/types.js';
import type { JsonObject } from '../patch/json.js';
import { kubeadmDocumentVersions } from '../patch/kubeadm-patches.js';
import { sortedRecord } from './kubelet.js';

export interface KubeProxyConfigInput {
  mode: KubeProxyMode;
  /** The pod network: traffic from outside it to services is masqueraded. */
  podSubnet: string;
  rootless: boolean;
  featureGates: Readonly<Record<string, boolean>>;
}

/** KubeProxyConfiguration (kubeproxy.config.k8s.io/v1alpha1). */
export function kubeProxyConfiguration(input: KubeProxyConfigInput): JsonObject {
  const conntrack: JsonObject = {
    // Never size nf_conntrack_max: it is global to the host (not per network namespace), a
    // node container must not change it, and a rootless one cannot.
    maxPerCore: 0,
  };
  if (input.rootless) {
    // These sysctls are per network namespace but read-only from a user namespace: 0s makes
    // kube-proxy leave them alone instead of failing.
    conntrack.tcpEstablishedTimeout = '0s';
    conntrack.tcpCloseWaitTimeout = '0s';
  } else if (input.mode === 'nftables') {
    // The nftables proxy relies on liberal TCP conntrack (on kernels before 6.1); writable when rootful.
    conntrack.tcpBeLiberal = true;
  }
  const config: JsonObject = {
    apiVersion: kubeadmDocumentVersions.KubeProxyConfiguration,
    kind: 'KubeProxyConfiguration',
    mode: input.mode,
    clusterCIDR: input.podSubnet,
    conntrack,
    // Apply service changes within a second (the default waits longer), for quick test loops.
    [input.mode]: { minSyncPeriod: '1s' },
  };
  if (Object.keys(input.featureGates).length > 0) config.featureGates = sortedRecord(input.featureGates);
  return config;
}
