// Pure generators of what kur writes into nodes, and the cluster plan that ties them together.
export { planCluster, kubeadmConfigFile } from './plan.js';
export type {
  BootstrapInputs,
  ClusterFacts,
  ClusterPlan,
  LoadBalancerPlan,
  NodePlan,
  PlannedFile,
} from './plan.js';
export {
  kubeadmInitDocuments,
  kubeadmJoinDocuments,
  renderKubeadmConfig,
  ignoredPreflightChecks,
  apiServerBindPort,
} from './kubeadm.js';
export type { KubeadmClusterInput, KubeadmInitInput, KubeadmJoinInput, KubeadmNode } from './kubeadm.js';
export { kubeletConfiguration } from './kubelet.js';
export type { CgroupDriver, KubeletConfigInput } from './kubelet.js';
export { kubeProxyConfiguration } from './kube-proxy.js';
export type { KubeProxyConfigInput } from './kube-proxy.js';
export { containerdConfig, containerdConfigTable } from './containerd.js';
export type { ContainerdConfigInput, Snapshotter } from './containerd.js';
export { flannelManifest, flannelVxlanPort } from './flannel.js';
export type { FlannelInput } from './flannel.js';
export { caCertHash, generateBootstrapToken, generateCertificateKey } from './tokens.js';
export type { RandomBytes } from './tokens.js';
