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
  /** Absolute path on the host (a relative one in the file is resolved against the file's directory). */
  hostPath: string;
  /** Absolute path inside the node container. */
  containerPath: string;
  /** Mount read-only. Default false. */
  readOnly: boolean;
  /** Default `None`. */
  propagation: MountPropagation;
  /** Create hostPath (a directory) when it does not exist. Default false: a missing hostPath is an error. */
  createHostPath: boolean;
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
  /**
   * Enforce NetworkPolicy objects (Flannel does not) with kur's agent (kur.local/netpol),
   * preloaded in the node image. Default true; false leaves it out.
   */
  networkPolicy: boolean;
}

/** Cluster storage. */
export interface StorageConfig {
  /**
   * A default StorageClass `standard` backed by local-path-provisioner (volumes are directories
   * under /var/local-path-provisioner on the node that runs the first pod). Default true; false
   * leaves it out.
   */
  defaultStorageClass: boolean;
}

/** A normalized, defaulted and validated cluster configuration. */
export interface ClusterConfig {
  /** Cluster name: a DNS-1123 label, short enough that node container names stay valid hostnames. */
  name: string;
  /** At least one control-plane node; the first one bootstraps the cluster. */
  nodes: NodeConfig[];
  networking: NetworkingConfig;
  storage: StorageConfig;
  /** Kubernetes feature gates, passed to every component. */
  featureGates: Record<string, boolean>;
  /** kube-apiserver `--runtime-config` entries, e.g. `{"api/alpha": "true"}`. */
  runtimeConfig: Record<string, string>;
  /**
   * Local registries (`kur create registry`) every node pulls `localhost:<port>/…` through: each
   * node's containerd gets a hosts.toml for the registry's port. They must exist at create.
   */
  registries: string[];
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

/** What a user may write for a mount (see {@link Mount}): everything but the paths optional. */
export interface MountInput {
  /** Path on the host; a relative path starts at the config file's directory. Required. */
  hostPath?: string;
  /** Absolute path inside the node container. Required. */
  containerPath?: string;
  /** Mount read-only. Default false. */
  readOnly?: boolean;
  /** `None` (default), `HostToContainer` or `Bidirectional`. */
  propagation?: MountPropagation;
  /** Let kur create hostPath as a directory when it does not exist. Default false. */
  createHostPath?: boolean;
}

/** A published port as a user writes it (see {@link PortMapping}). */
export interface PortMappingInput {
  /** Port inside the node (for a NodePort service, the nodePort). Required, 1-65535. */
  containerPort?: number;
  /** Port on the host; 0 or absent lets the engine pick a free one. */
  hostPort?: number;
  /** Host address to listen on. Default `127.0.0.1`. */
  listenAddress?: string;
  /** `TCP` (default), `UDP` or `SCTP`. */
  protocol?: PortProtocol;
}

/** An RFC 6902 patch as a user writes it (see {@link Json6902Patch}). */
export interface Json6902PatchInput {
  /** API group of the target document, e.g. `kubeadm.k8s.io`; empty or absent matches any. */
  group?: string;
  /** API version of the target document, e.g. `v1beta4`; empty or absent matches any. */
  version?: string;
  /** Kind of the target document, e.g. `ClusterConfiguration`. Required. */
  kind?: string;
  /** The operations, as a YAML or JSON list. Required. */
  patch?: string;
}

/** One node as a user writes it (see {@link NodeConfig}). */
export interface NodeConfigInput {
  /** `control-plane` (default) or `worker`. */
  role?: NodeRole;
  /** Node image; default kur's image for the pinned Kubernetes version (`kur.local/node:<version>`). */
  image?: string;
  /** Kubernetes labels the kubelet registers the node with. */
  labels?: Record<string, string>;
  /** Host paths mounted into the node. */
  extraMounts?: MountInput[];
  /** Node ports published on the host (e.g. for NodePort services). */
  extraPortMappings?: PortMappingInput[];
  /** Merge patches applied to this node's kubeadm documents after the cluster-level ones. */
  kubeadmConfigPatches?: string[];
  /** JSON patches applied to this node's kubeadm documents after the cluster-level ones. */
  kubeadmConfigPatchesJSON6902?: Json6902PatchInput[];
}

/** Cluster networking as a user writes it (see {@link NetworkingConfig}); every field optional. */
export type NetworkingConfigInput = Partial<NetworkingConfig>;

/** Cluster storage as a user writes it (see {@link StorageConfig}); every field optional. */
export type StorageConfigInput = Partial<StorageConfig>;

/**
 * A cluster configuration as a user writes it (also the library's `createCluster` options):
 * every field optional, defaults filled in by loading. See {@link ClusterConfig} for the meaning
 * of each field once defaulted.
 */
export interface ClusterConfigInput {
  /** Cluster name (DNS-1123 label). Default `kur`. */
  name?: string;
  /** The nodes; default one control plane. The first control plane bootstraps the cluster. */
  nodes?: NodeConfigInput[];
  /** API server address and port, pod and service subnets, CNI and kube-proxy mode. */
  networking?: NetworkingConfigInput;
  /** The default StorageClass (local-path-provisioner). */
  storage?: StorageConfigInput;
  /** Kubernetes feature gates, passed to every component. */
  featureGates?: Record<string, boolean>;
  /** kube-apiserver `--runtime-config` entries, e.g. `{"api/alpha": "true"}`. */
  runtimeConfig?: Record<string, string>;
  /** Names of local registries (`kur create registry`) the nodes pull `localhost:<port>/…` through. */
  registries?: string[];
  /** Merge patches for the kubeadm, kubelet and kube-proxy documents, chosen by `kind`. */
  kubeadmConfigPatches?: string[];
  /** RFC 6902 patches for the same documents. */
  kubeadmConfigPatchesJSON6902?: Json6902PatchInput[];
  /** TOML documents merged into every node's containerd config (version 3). */
  containerdConfigPatches?: string[];
  /** RFC 6902 patches (YAML or JSON) applied to the containerd config seen as JSON. */
  containerdConfigPatchesJSON6902?: string[];
}
