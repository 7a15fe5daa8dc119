import { defaultClusterName } from './names.js';
import type {
  ClusterConfig,
  ClusterConfigInput,
  Json6902Patch,
  Json6902PatchInput,
  Mount,
  MountInput,
  NetworkingConfig,
  NodeConfig,
  NodeConfigInput,
  PortMapping,
  PortMappingInput,
  StorageConfig,
} from './types.js';

/** Every default kur applies, in one place. Validation runs on the result. */
export const defaults = {
  name: defaultClusterName,
  role: 'control-plane',
  networking: {
    apiServerAddress: '127.0.0.1',
    apiServerPort: 0,
    podSubnet: '10.244.0.0/16',
    serviceSubnet: '10.96.0.0/16',
    disableDefaultCNI: false,
    kubeProxyMode: 'iptables',
    networkPolicy: true,
  } satisfies NetworkingConfig,
  storage: { defaultStorageClass: true } satisfies StorageConfig,
  mount: { readOnly: false, propagation: 'None', createHostPath: false },
  // 127.0.0.1, not kind's 0.0.0.0: a published port is reachable from other machines only
  // when the user asks for it.
  portMapping: { hostPort: 0, listenAddress: '127.0.0.1', protocol: 'TCP' },
} as const;

/** Fills every unset field. `nameOverride` (the CLI's --name) wins over the file. */
export function applyDefaults(input: ClusterConfigInput, nameOverride?: string): ClusterConfig {
  // An empty list stays empty: validation refuses it rather than guessing one node.
  const nodes = input.nodes ?? [{}];
  return {
    name: nameOverride ?? input.name ?? defaults.name,
    nodes: nodes.map(nodeDefaults),
    networking: { ...defaults.networking, ...definedOnly(input.networking ?? {}) },
    storage: { ...defaults.storage, ...definedOnly(input.storage ?? {}) },
    featureGates: { ...input.featureGates },
    runtimeConfig: { ...input.runtimeConfig },
    registries: [...(input.registries ?? [])],
    kubeadmConfigPatches: [...(input.kubeadmConfigPatches ?? [])],
    kubeadmConfigPatchesJSON6902: (input.kubeadmConfigPatchesJSON6902 ?? []).map(json6902Defaults),
    containerdConfigPatches: [...(input.containerdConfigPatches ?? [])],
    containerdConfigPatchesJSON6902: [...(input.containerdConfigPatchesJSON6902 ?? [])],
  };
}

function nodeDefaults(input: NodeConfigInput | undefined): NodeConfig {
  const node = input ?? {};
  const out: NodeConfig = {
    role: node.role ?? defaults.role,
    labels: { ...node.labels },
    extraMounts: (node.extraMounts ?? []).map(mountDefaults),
    extraPortMappings: (node.extraPortMappings ?? []).map(portDefaults),
    kubeadmConfigPatches: [...(node.kubeadmConfigPatches ?? [])],
    kubeadmConfigPatchesJSON6902: (node.kubeadmConfigPatchesJSON6902 ?? []).map(json6902Defaults),
  };
  if (node.image !== undefined) out.image = node.image;
  return out;
}

// Paths stay empty when unset so validation can say they are required.
function mountDefaults(input: MountInput | undefined): Mount {
  const m = input ?? {};
  return {
    hostPath: m.hostPath ?? '',
    containerPath: m.containerPath ?? '',
    readOnly: m.readOnly ?? defaults.mount.readOnly,
    propagation: m.propagation ?? defaults.mount.propagation,
    createHostPath: m.createHostPath ?? defaults.mount.createHostPath,
  };
}

function portDefaults(input: PortMappingInput | undefined): PortMapping {
  const p = input ?? {};
  return {
    containerPort: p.containerPort ?? 0,
    hostPort: p.hostPort ?? defaults.portMapping.hostPort,
    listenAddress: p.listenAddress ?? defaults.portMapping.listenAddress,
    protocol: p.protocol ?? defaults.portMapping.protocol,
  };
}

function json6902Defaults(input: Json6902PatchInput | undefined): Json6902Patch {
  const p = input ?? {};
  return { group: p.group ?? '', version: p.version ?? '', kind: p.kind ?? '', patch: p.patch ?? '' };
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
