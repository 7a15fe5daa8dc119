import { loadBalancerName, contextName, needsLoadBalancer, nodeNames } from '../config/names.js';
import type { ClusterConfig, Mount, NodeRole, PortMapping } from '../config/types.js';
import { nodePaths } from '../node/layout.js';
import { KurError } from '../util/errors.js';
import type { LocalRegistry, Snapshotter } from './containerd.js';
import { containerdConfig, registryHostsFiles } from './containerd.js';
import { flannelManifest } from './flannel.js';
import type { KubeadmPatchSet } from '../patch/kubeadm-patches.js';
import type { KubeadmClusterInput, KubeadmNode } from './kubeadm.js';
import {
  apiServerBindPort,
  kubeadmInitDocuments,
  kubeadmJoinDocuments,
  renderKubeadmConfig,
} from './kubeadm.js';
import type { CgroupDriver, KubeletConfigInput } from './kubelet.js';

/** What detection found about the engine, the host and the node image; the plan's other input. */
export interface ClusterFacts {
  /** The engine runs in a user namespace (rootless Docker or Podman). */
  rootless: boolean;
  cgroupVersion: 1 | 2;
  /** The cgroup driver kubelet and runc use inside nodes (systemd when systemd is PID 1 and cgroups are writable). */
  cgroupDriver: CgroupDriver;
  /** What the node entrypoint found mountable (KUR_SNAPSHOTTER in /etc/kur/node.env). */
  snapshotter: Snapshotter;
  provider: 'docker' | 'podman';
  /** The node image's Kubernetes version, e.g. v1.37.2 (kubeadm config v1beta4 needs >= 1.31). */
  kubernetesVersion: string;
  images: {
    /** Default node image for nodes without `image`. */
    node: string;
    /** The pause (sandbox) image preloaded in the node image. */
    pause: string;
    /** The flannel image preloaded in the node image. */
    flannel: string;
    /** Repository kubeadm names control-plane images under; default registry.k8s.io. */
    kubeadmRepository?: string;
    /** Image of the HA load balancer container; default the node image. */
    loadBalancer?: string;
  };
  /**
   * Degraded rootless mode: the node cannot write cgroups (KUR_CGROUP_WRITABLE=false), pods run
   * without resource limits. Needs `cgroupDriver: 'cgroupfs'` and kur-runc in the node image.
   */
  noCgroups?: boolean;
  /**
   * The node lacks CAP_SYS_RESOURCE (KUR_CAP_SYS_RESOURCE=false): containerd must not ask for
   * an oom_score_adj below its own. Implied when rootless.
   */
  restrictOomScoreAdj?: boolean;
  /** The local registries of `config.registries`, as found on the engine (their host ports). */
  registries?: LocalRegistry[];
}

/** A file to write into a node through the archive API. */
export interface PlannedFile {
  /** Absolute path inside the node. */
  path: string;
  mode: number;
  content: string;
}

export interface NodePlan {
  /** Container name, hostname and Kubernetes node name. */
  name: string;
  role: NodeRole;
  /** The first control plane: `kubeadm init` runs here, and the CNI manifest is applied from here. */
  bootstrap: boolean;
  image: string;
  /** Kubernetes labels (the kubelet's node-labels). */
  labels: Record<string, string>;
  /** Published ports, the API server's included on a single control plane. */
  portMappings: PortMapping[];
  mounts: Mount[];
  /** Files that need no node IP, to write before kubeadm runs (containerd config; CNI manifest). */
  files: PlannedFile[];
}

export interface LoadBalancerPlan {
  name: string;
  image: string;
  /** The port the load balancer listens on inside its container. */
  containerPort: number;
  portMappings: PortMapping[];
  /** Control-plane nodes to forward to, each at apiServerBindPort. */
  backends: string[];
}

export interface ClusterPlan {
  name: string;
  /** kubeconfig context, cluster and user name. */
  context: string;
  /** The API server as the host reaches it; port 0 means "pick a free one". */
  apiServer: { address: string; port: number };
  /** `host:port` nodes use for the API server: the only control plane, or the load balancer. */
  controlPlaneEndpoint: string;
  nodes: NodePlan[];
  loadBalancer: LoadBalancerPlan | undefined;
  /** Install Flannel (from the bootstrap node's manifest file) unless the user brings a CNI. */
  cni: 'flannel' | 'none';
  /** No workers: control planes are left untainted so pods can run. */
  schedulableControlPlanes: boolean;
  config: ClusterConfig;
  facts: ClusterFacts;
}

/**
 * Everything the provisioning steps need, derived once from the config and the detected facts:
 * names, images, ports, mounts, and the files that do not depend on node IPs. The kubeadm file
 * depends on IPs and secrets, known later: see {@link kubeadmConfigFile}.
 */
export function planCluster(config: ClusterConfig, facts: ClusterFacts): ClusterPlan {
  requireKubeadmV1beta4(facts.kubernetesVersion);
  const roles = config.nodes.map((n) => n.role);
  const names = nodeNames(config.name, roles);
  const ha = needsLoadBalancer(roles);
  const bootstrapIndex = roles.indexOf('control-plane');
  const apiPort: PortMapping = {
    containerPort: apiServerBindPort,
    hostPort: config.networking.apiServerPort,
    listenAddress: config.networking.apiServerAddress,
    protocol: 'TCP',
  };
  const endpointHost = ha ? loadBalancerName(config.name) : names[bootstrapIndex]!;
  const containerd = containerdConfig({
    cgroupDriver: facts.cgroupDriver,
    snapshotter: facts.snapshotter,
    sandboxImage: facts.images.pause,
    rootless: facts.rootless,
    restrictOomScoreAdj: facts.restrictOomScoreAdj ?? false,
    noCgroups: facts.noCgroups ?? false,
    registries: facts.registries ?? [],
    patches: config.containerdConfigPatches,
    patchesJSON6902: config.containerdConfigPatchesJSON6902,
  });
  const cni = config.networking.disableDefaultCNI ? 'none' : 'flannel';

  const nodes = config.nodes.map((node, i): NodePlan => {
    const bootstrap = i === bootstrapIndex;
    const files: PlannedFile[] = [
      { path: nodePaths.containerdConfig, mode: 0o644, content: containerd },
      ...registryHostsFiles(facts.registries ?? []).map((f) => ({ ...f, mode: 0o644 })),
    ];
    if (bootstrap && cni === 'flannel') {
      files.push({
        path: nodePaths.flannelManifest,
        mode: 0o644,
        content: flannelManifest({
          podSubnet: config.networking.podSubnet,
          image: facts.images.flannel,
          apiServerEndpoint: `${endpointHost}:${apiServerBindPort}`,
        }),
      });
    }
    return {
      name: names[i]!,
      role: node.role,
      bootstrap,
      image: node.image ?? facts.images.node,
      labels: { ...node.labels },
      portMappings: [...(bootstrap && !ha ? [apiPort] : []), ...node.extraPortMappings],
      mounts: [...node.extraMounts],
      files,
    };
  });

  return {
    name: config.name,
    context: contextName(config.name),
    apiServer: { address: config.networking.apiServerAddress, port: config.networking.apiServerPort },
    controlPlaneEndpoint: `${endpointHost}:${apiServerBindPort}`,
    nodes,
    loadBalancer: ha
      ? {
          name: loadBalancerName(config.name),
          image: facts.images.loadBalancer ?? facts.images.node,
          containerPort: apiServerBindPort,
          portMappings: [apiPort],
          backends: nodes.filter((n) => n.role === 'control-plane').map((n) => n.name),
        }
      : undefined,
    cni,
    schedulableControlPlanes: !roles.includes('worker'),
    config,
    facts,
  };
}

/** Secrets and addresses known only once the containers run (and, for joins, after init). */
export interface BootstrapInputs {
  /** The node's IP on the engine network. */
  nodeIP: string;
  /** Bootstrap token (generateBootstrapToken), the same for every node of the cluster. */
  token: string;
  /** For HA: the certificate key given to `kubeadm init --upload-certs` and to control-plane joins. */
  certificateKey?: string;
  /** For joins: caCertHash() of the bootstrap node's /etc/kubernetes/pki/ca.crt. */
  caCertHashes?: readonly string[];
}

/**
 * /kur/kubeadm.yaml for one node: the init documents on the bootstrap node, a JoinConfiguration
 * elsewhere; the user's cluster-level and then node-level patches applied.
 */
export function kubeadmConfigFile(plan: ClusterPlan, nodeName: string, inputs: BootstrapInputs): PlannedFile {
  const index = plan.nodes.findIndex((n) => n.name === nodeName);
  const node = plan.nodes[index];
  const nodeConfig = plan.config.nodes[index];
  if (node === undefined || nodeConfig === undefined) {
    throw new KurError('internal', `kubeadmConfigFile: ${nodeName} is not a node of cluster ${plan.name}`);
  }
  const { config, facts } = plan;
  const kubeadmNode: KubeadmNode = {
    name: node.name,
    ip: inputs.nodeIP,
    role: node.role,
    labels: node.labels,
  };
  if (facts.noCgroups) kubeadmNode.noCgroups = true;
  const patches: KubeadmPatchSet[] = [
    { merge: config.kubeadmConfigPatches, json6902: config.kubeadmConfigPatchesJSON6902 },
    { merge: nodeConfig.kubeadmConfigPatches, json6902: nodeConfig.kubeadmConfigPatchesJSON6902 },
  ];
  const ha = plan.loadBalancer !== undefined;
  let documents;
  if (node.bootstrap) {
    documents = kubeadmInitDocuments({
      cluster: clusterInput(plan),
      node: kubeadmNode,
      bootstrapToken: inputs.token,
      ...(ha ? { certificateKey: requireKey(inputs.certificateKey, node.name) } : {}),
      schedulableControlPlanes: plan.schedulableControlPlanes,
      kubelet: kubeletInput(plan),
      kubeProxy: {
        mode: config.networking.kubeProxyMode,
        podSubnet: config.networking.podSubnet,
        rootless: facts.rootless,
        featureGates: config.featureGates,
      },
      patches,
    });
  } else {
    documents = kubeadmJoinDocuments({
      node: kubeadmNode,
      controlPlaneEndpoint: plan.controlPlaneEndpoint,
      bootstrapToken: inputs.token,
      caCertHashes: inputs.caCertHashes ?? [],
      ...(node.role === 'control-plane'
        ? { certificateKey: requireKey(inputs.certificateKey, node.name) }
        : {}),
      schedulableControlPlanes: plan.schedulableControlPlanes,
      patches,
    });
  }
  const verb = node.bootstrap ? 'kubeadm init' : 'kubeadm join';
  return {
    path: nodePaths.kubeadmConfig,
    // Holds the bootstrap token and the certificate key.
    mode: 0o600,
    content: renderKubeadmConfig(documents, patches, `Generated by kur for ${verb} on ${node.name}.`),
  };
}

function clusterInput(plan: ClusterPlan): KubeadmClusterInput {
  const { config, facts } = plan;
  const endpointHost = plan.controlPlaneEndpoint.slice(0, plan.controlPlaneEndpoint.lastIndexOf(':'));
  const address = config.networking.apiServerAddress;
  const wildcard = address === '0.0.0.0' || address === '::';
  const cluster: KubeadmClusterInput = {
    clusterName: config.name,
    kubernetesVersion: facts.kubernetesVersion,
    controlPlaneEndpoint: plan.controlPlaneEndpoint,
    // The host reaches the API server at 127.0.0.1 (or the address asked for); nodes and
    // `kur get kubeconfig --internal` use container names; every control plane gets a
    // certificate from this same list when it joins.
    certSANs: [
      'localhost',
      '127.0.0.1',
      ...(wildcard ? [] : [address]),
      endpointHost,
      ...plan.nodes.filter((n) => n.role === 'control-plane').map((n) => n.name),
    ],
    podSubnet: config.networking.podSubnet,
    serviceSubnet: config.networking.serviceSubnet,
    featureGates: config.featureGates,
    runtimeConfig: config.runtimeConfig,
  };
  if (facts.images.kubeadmRepository !== undefined) cluster.imageRepository = facts.images.kubeadmRepository;
  return cluster;
}

function kubeletInput(plan: ClusterPlan): KubeletConfigInput {
  const { facts } = plan;
  const input: KubeletConfigInput = {
    cgroupDriver: facts.cgroupDriver,
    cgroupVersion: facts.cgroupVersion,
    rootless: facts.rootless,
    featureGates: plan.config.featureGates,
  };
  if (facts.noCgroups) input.noCgroups = true;
  return input;
}

function requireKey(key: string | undefined, nodeName: string): string {
  if (key === undefined) {
    throw new KurError(
      'internal',
      `kubeadmConfigFile: ${nodeName} needs the certificate key of an HA cluster`,
    );
  }
  return key;
}

function requireKubeadmV1beta4(version: string): void {
  const match = /^v?(\d+)\.(\d+)/.exec(version);
  const [major, minor] = match ? [Number(match[1]), Number(match[2])] : [0, 0];
  if (major < 1 || (major === 1 && minor < 31)) {
    throw new KurError('preflight', `the node image's Kubernetes version ${version} is too old for kur`, {
      hint: 'Use a node image with Kubernetes v1.31 or newer (kur writes kubeadm v1beta4 configs).',
    });
  }
}
