/**
 * The cluster configuration: what a user writes in a `kind: Cluster` file, or passes to the
 * library as options, and the normalized form every later step reads.
 *
 * Two shapes exist. {@link ClusterConfigInput} is what a user may write: everything optional.
 * {@link ClusterConfig} is the result of loading: defaults applied (in `defaults.ts`, the only
 * place defaults live) and validated (in `validate.ts`). Field names follow kind's
 * `kind.x-k8s.io/v1alpha4` Cluster, so kind users can bring their files.
 */

/** The config API version kur writes and reads natively. */
export const kurApiVersion = 'kur.dev/v1alpha1';
/** kind's config API version, accepted for the fields kur supports. */
export const kindApiVersion = 'kind.x-k8s.io/v1alpha4';
/** Every `apiVersion` kur reads, in the order it prefers them. */
export const supportedApiVersions = [kurApiVersion, kindApiVersion] as const;
export type ConfigApiVersion = (typeof supportedApiVersions)[number];

/** `control-plane` nodes run the Kubernetes control plane; `worker` nodes only run pods. */
export type NodeRole = 'control-plane' | 'worker';
export const nodeRoles: readonly NodeRole[] = ['control-plane', 'worker'];

/**
 * Mount propagation, named as in Kubernetes: `None` (private), `HostToContainer` (rslave),
 * `Bidirectional` (rshared).
 */
export type MountPropagation = 'None' | 'HostToContainer' | 'Bidirectional';
export const mountPropagations: readonly MountPropagation[] = ['None', 'HostToContainer', 'Bidirectional'];

export type PortProtocol = 'TCP' | 'UDP' | 'SCTP';
export const portProtocols: readonly PortProtocol[] = ['TCP', 'UDP', 'SCTP'];

/** kube-proxy's data plane. */
export type KubeProxyMode = 'iptables' | 'nftables';
export const kubeProxyModes: readonly KubeProxyMode[] = ['iptables', 'nftables'];

/** A host path bind-mounted into a node container. */
export interface Mount {
  /** Absolute path on the host (the engine's host: for a remote engine, that machine). */
  hostPath: string;
  /** Absolute path inside the node container. */
  containerPath: string;
  /** Mount read-only. Default false. */
  readOnly: boolean;
  /** Default `None`. */
  propagation: MountPropagation;
}

/** A port of a node container published on the host. */
export interface PortMapping {
  /** Port inside the node (for a NodePort service, the nodePort). 1-65535. */
  containerPort: number;
  /** Port on the host; 0 lets the engine pick a free one. Default 0. */
  hostPort: number;
  /** Host address to listen on. Default `127.0.0.1`: nothing is reachable from other machines unless asked. */
  listenAddress: string;
  /** Default `TCP`. */
  protocol: PortProtocol;
}

/**
 * An RFC 6902 JSON patch for one kubeadm-generated document, chosen by kind (and by group and
 * version when they are not empty), like kind's `kubeadmConfigPatchesJSON6902`.
 */
export interface Json6902Patch {
  /** API group of the target, e.g. `kubeadm.k8s.io`; empty matches any group. */
  group: string;
  /** API version of the target, e.g. `v1beta4`; empty matches any version. */
  version: string;
  /** Kind of the target, e.g. `ClusterConfiguration`. */
  kind: string;
  /** The patch: a YAML or JSON list of operations (`op`, `path`, `value`, `from`). */
  patch: string;
}

/** One node container. */
export interface NodeConfig {
  /** Default `control-plane`. */
  role: NodeRole;
  /** Node image; undefined means kur's default node image (`kur.local/node:<version>`). */
  image?: string;
  /** Kubernetes labels the kubelet registers the node with. */
  labels: Record<string, string>;
  extraMounts: Mount[];
  extraPortMappings: PortMapping[];
  /** Merge patches applied to this node's kubeadm documents after the cluster-level ones. */
  kubeadmConfigPatches: string[];
  /** JSON patches applied to this node's kubeadm documents after the cluster-level ones. */
  kubeadmConfigPatchesJSON6902: Json6902Patch[];
}

export interface NetworkingConfig {
  /** Host address the API server is published on. Default `127.0.0.1`. */
  apiServerAddress: string;
  /** Host port of the API server; 0 picks a free one at create time. Default 0. */
  apiServerPort: number;
  /** Pod network (IPv4 CIDR); each node gets a /24 of it. Default `10.244.0.0/16`. */
  podSubnet: string;
  /** Service network (IPv4 CIDR). Default `10.96.0.0/16`. */
  serviceSubnet: string;
  /** Do not install Flannel; the user installs a CNI. Default false. */
  disableDefaultCNI: boolean;
  /** Default `iptables`. */
  kubeProxyMode: KubeProxyMode;
}

/** A normalized, defaulted and validated cluster configuration. */
export interface ClusterConfig {
  /** Cluster name: a DNS-1123 label, short enough that node container names stay valid hostnames. */
  name: string;
  /** At least one control-plane node; the first one bootstraps the cluster. */
  nodes: NodeConfig[];
  networking: NetworkingConfig;
  /** Kubernetes feature gates, passed to every component. */
  featureGates: Record<string, boolean>;
  /** kube-apiserver `--runtime-config` entries, e.g. `{"api/alpha": "true"}`. */
  runtimeConfig: Record<string, string>;
  /**
   * Merge patches (YAML documents with `kind`, optionally `apiVersion`) applied to the generated
   * kubeadm documents: InitConfiguration, ClusterConfiguration, JoinConfiguration,
   * KubeletConfiguration, KubeProxyConfiguration. Objects merge, `null` deletes, lists are
   * replaced, except kubeadm's `extraArgs`/`kubeletExtraArgs` (merged by name) and `certSANs`
   * (union).
   */
  kubeadmConfigPatches: string[];
  kubeadmConfigPatchesJSON6902: Json6902Patch[];
  /** TOML documents merged into every node's generated containerd config (version 3). */
  containerdConfigPatches: string[];
  /** RFC 6902 patches (YAML or JSON) applied to the containerd config seen as JSON. */
  containerdConfigPatchesJSON6902: string[];
}

/** What a user may write for a mount: everything but the paths optional. */
export interface MountInput {
  hostPath?: string;
  containerPath?: string;
  readOnly?: boolean;
  propagation?: MountPropagation;
}

export interface PortMappingInput {
  containerPort?: number;
  hostPort?: number;
  listenAddress?: string;
  protocol?: PortProtocol;
}

export interface Json6902PatchInput {
  group?: string;
  version?: string;
  kind?: string;
  patch?: string;
}

export interface NodeConfigInput {
  role?: NodeRole;
  image?: string;
  labels?: Record<string, string>;
  extraMounts?: MountInput[];
  extraPortMappings?: PortMappingInput[];
  kubeadmConfigPatches?: string[];
  kubeadmConfigPatchesJSON6902?: Json6902PatchInput[];
}

export type NetworkingConfigInput = Partial<NetworkingConfig>;

/**
 * A cluster configuration as a user writes it (also the library's `createCluster` options):
 * every field optional, defaults filled in by loading.
 */
export interface ClusterConfigInput {
  name?: string;
  nodes?: NodeConfigInput[];
  networking?: NetworkingConfigInput;
  featureGates?: Record<string, boolean>;
  runtimeConfig?: Record<string, string>;
  kubeadmConfigPatches?: string[];
  kubeadmConfigPatchesJSON6902?: Json6902PatchInput[];
  containerdConfigPatches?: string[];
  containerdConfigPatchesJSON6902?: string[];
}
