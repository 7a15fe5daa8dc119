import type { JsonObject } from '../patch/json.js';
import { kubeadmDocumentVersions } from '../patch/kubeadm-patches.js';

export type CgroupDriver = 'systemd' | 'cgroupfs';

export interface KubeletConfigInput {
  /** Must match containerd's runc `SystemdCgroup`. */
  cgroupDriver: CgroupDriver;
  /** Kubernetes >= 1.35 refuses cgroup v1 unless told otherwise. */
  cgroupVersion: 1 | 2;
  /** The node runs in a user namespace (rootless engine). */
  rootless: boolean;
  /**
   * Degraded mode for hosts where the node cannot write cgroups (rootless on cgroup v1): no QoS
   * cgroups and no node-allocatable enforcement, so pods run without resource limits.
   */
  noCgroups?: boolean;
  /** Kubernetes feature gates from the cluster config. */
  featureGates: Readonly<Record<string, boolean>>;
  /** A cgroup for all pods (kind uses /kubelet); it must exist before the kubelet starts. Default: none. */
  cgroupRoot?: string;
}

/**
 * KubeletConfiguration (kubelet.config.k8s.io/v1beta1) for a node that is itself a container.
 * kubeadm writes it to /var/lib/kubelet/config.yaml on init and shares it with joining nodes
 * through the kubelet-config ConfigMap, so it is the same on every node of a cluster.
 */
export function kubeletConfiguration(input: KubeletConfigInput): JsonObject {
  const featureGates: Record<string, boolean> = { ...input.featureGates };
  // In a user namespace the kubelet must tolerate sysctls and /dev/kmsg it cannot write or open.
  if (input.rootless) featureGates.KubeletInUserNamespace = true;

  const config: JsonObject = {
    apiVersion: kubeadmDocumentVersions.KubeletConfiguration,
    kind: 'KubeletConfiguration',
    cgroupDriver: input.cgroupDriver,
    // The node shares the host's memory; swap on the host is not the node's to refuse.
    failSwapOn: false,
    // The kubelet sees the disk of the host the node's /var is on, which other nodes and the
    // host fill too: disk-pressure eviction and image GC would act on space kur does not own,
    // and preloaded images cannot be pulled again once collected.
    imageGCHighThresholdPercent: 100,
    evictionHard: {
      'nodefs.available': '0%',
      'nodefs.inodesFree': '0%',
      'imagefs.available': '0%',
      'imagefs.inodesFree': '0%',
    },
  };
  if (input.cgroupRoot !== undefined && !input.noCgroups) config.cgroupRoot = input.cgroupRoot;
  // Kubernetes >= 1.35 refuses to start on cgroup v1 unless this is false.
  if (input.cgroupVersion === 1) config.failCgroupV1 = false;
  // Ephemeral-storage accounting needs the root filesystem's usage, which a kubelet in a user
  // namespace cannot read (the field's documentation names rootless kind as the case).
  if (input.rootless) config.localStorageCapacityIsolation = false;
  if (input.noCgroups) {
    config.cgroupsPerQOS = false;
    // Must be an explicit empty list: an absent field defaults to ["pods"], which needs QoS
    // cgroups. kubeadm drops the empty list when it rewrites this file (omitempty), so nodes
    // also get the flag form: see noCgroupsKubeletFlags.
    config.enforceNodeAllocatable = [];
  }
  if (Object.keys(featureGates).length > 0) config.featureGates = sortedRecord(featureGates);
  return config;
}

/**
 * kubelet flags of the no-cgroups mode, for every node's kubeadm nodeRegistration. kubeadm
 * re-marshals the KubeletConfiguration and loses `enforceNodeAllocatable: []`; the kubelet then
 * refuses to start ("cgroupsPerQOS must be set to true when \"pods\" contained in
 * enforceNodeAllocatable"). An empty flag value is an empty list, and flags win over the file.
 */
export const noCgroupsKubeletFlags: readonly { name: string; value: string }[] = [
  { name: 'enforce-node-allocatable', value: '' },
];

export function sortedRecord<T extends JsonObject[string]>(record: Readonly<Record<string, T>>): JsonObject {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => a.localeCompare(b)));
}
