import { parseJsonPatch } from '../patch/json-patch.js';
import { PatchError } from '../patch/json.js';
import type { KubeadmDocumentKind } from '../patch/kubeadm-patches.js';
import {
  kubeadmDocumentKinds,
  kubeadmDocumentVersions,
  parseKubeadmMergePatch,
} from '../patch/kubeadm-patches.js';
import { containerdConfigVersion, parseTomlPatch, tomlPatchVersion } from '../patch/toml-patch.js';
import { containerNames, maxNodeNameLength } from './names.js';
import type { Ipv4Cidr } from './net.js';
import { cidrsOverlap, isIpAddress, isWildcardAddress, parseIpv4Cidr } from './net.js';
import type { ConfigPath, ConfigProblem } from './problems.js';
import { closest } from '../patch/suggest.js';
import type { ClusterConfig, Json6902Patch, NodeConfig } from './types.js';
import { kubeProxyModes, mountPropagations, nodeRoles, portProtocols } from './types.js';

/** Which file format the config came from: kind's is read leniently where kind is lenient. */
export type ConfigFormat = 'kur' | 'kind';

export interface ValidationResult {
  problems: ConfigProblem[];
  /** Things that work but may surprise (kind-format leniencies). */
  warnings: ConfigProblem[];
}

/** Flannel and kube-controller-manager give each node a /24 of the pod subnet. */
const nodePodPrefix = 24;

/** Container paths a mount must not replace: the node itself lives there. */
const reservedContainerPaths = new Set([
  '/',
  '/var',
  '/run',
  '/tmp',
  '/proc',
  '/sys',
  '/dev',
  '/etc',
  '/usr',
  '/lib/modules',
]);

/**
 * Checks a defaulted config. Pure: returns every problem found instead of stopping at the
 * first, each with the field path and the fix; the caller ties them to file positions.
 */
export function validateClusterConfig(config: ClusterConfig, format: ConfigFormat = 'kur'): ValidationResult {
  const problems: ConfigProblem[] = [];
  const warnings: ConfigProblem[] = [];
  const add = (path: ConfigPath, problem: string, hint?: string): void => {
    problems.push(hint === undefined ? { path, problem } : { path, problem, hint });
  };

  validateName(config, add);

  const controlPlanes = config.nodes.filter((n) => n.role === 'control-plane').length;
  if (controlPlanes === 0 && config.nodes.every((n) => (nodeRoles as readonly string[]).includes(n.role))) {
    add(
      ['nodes'],
      'needs at least one node with role: control-plane',
      'Add `- role: control-plane` to nodes.',
    );
  }
  config.nodes.forEach((node, i) => validateNode(node, ['nodes', i], add, problems, warnings, format));

  const net = config.networking;
  if (!isIpAddress(net.apiServerAddress)) {
    add(
      ['networking', 'apiServerAddress'],
      `${JSON.stringify(net.apiServerAddress)} is not an IP address`,
      'Use 127.0.0.1 (the default) or another host IP.',
    );
  }
  checkPort(net.apiServerPort, ['networking', 'apiServerPort'], true, add);
  const pod = checkCidr(net.podSubnet, ['networking', 'podSubnet'], add);
  const service = checkCidr(net.serviceSubnet, ['networking', 'serviceSubnet'], add);
  if (pod !== undefined) {
    if (pod.prefix > nodePodPrefix) {
      add(
        ['networking', 'podSubnet'],
        `/${pod.prefix} is too small: each node gets a /${nodePodPrefix}`,
        'Use a /16 (the default is 10.244.0.0/16).',
      );
    } else if (2 ** (nodePodPrefix - pod.prefix) < config.nodes.length) {
      add(
        ['networking', 'podSubnet'],
        `/${pod.prefix} holds ${2 ** (nodePodPrefix - pod.prefix)} node subnets (/${nodePodPrefix}) for ${config.nodes.length} nodes`,
        'Use a larger pod subnet, e.g. a /16.',
      );
    }
  }
  if (service !== undefined && service.prefix > 28) {
    add(
      ['networking', 'serviceSubnet'],
      `/${service.prefix} is too small for the API server and DNS service addresses`,
      'Use a /16 (the default is 10.96.0.0/16) or at least a /28.',
    );
  }
  if (pod !== undefined && service !== undefined && cidrsOverlap(pod, service)) {
    add(
      ['networking', 'serviceSubnet'],
      `${net.serviceSubnet} overlaps podSubnet ${net.podSubnet}`,
      'Use disjoint ranges, e.g. podSubnet 10.244.0.0/16 and serviceSubnet 10.96.0.0/16.',
    );
  }
  if (!(kubeProxyModes as readonly string[]).includes(net.kubeProxyMode)) {
    add(
      ['networking', 'kubeProxyMode'],
      `must be one of ${kubeProxyModes.join(', ')}, got ${JSON.stringify(net.kubeProxyMode)}`,
      suggestion(net.kubeProxyMode, kubeProxyModes),
    );
  }

  validateHostPorts(config, add);

  for (const gate of Object.keys(config.featureGates)) {
    if (!/^[A-Za-z][A-Za-z0-9]*$/.test(gate)) {
      add(
        ['featureGates', gate],
        'is not a feature gate name',
        'Feature gates are CamelCase names like InPlacePodVerticalScaling.',
      );
    }
  }
  for (const [key, value] of Object.entries(config.runtimeConfig)) {
    if (key === '' || /[,=\s]/.test(key)) {
      add(
        ['runtimeConfig', key],
        'is not an API group/version (no commas, = or spaces)',
        'Use keys like api/alpha or resource.k8s.io/v1beta1.',
      );
    }
    if (/[,\s]/.test(value)) {
      add(
        ['runtimeConfig', key],
        `value ${JSON.stringify(value)} must not contain commas or spaces`,
        'Use "true" or "false".',
      );
    }
  }

  validateKubeadmPatches(
    config.kubeadmConfigPatches,
    config.kubeadmConfigPatchesJSON6902,
    [],
    problems,
    warnings,
    format,
  );
  config.containerdConfigPatches.forEach((text, i) => {
    const path = ['containerdConfigPatches', i];
    const patch = catchPatch(() => parseTomlPatch(text), path, problems);
    const version = patch === undefined ? undefined : tomlPatchVersion(patch);
    if (version !== undefined && version !== containerdConfigVersion) {
      const entry = {
        path,
        problem: `is for containerd config version ${version}; kur's nodes run containerd 2.x (version ${containerdConfigVersion}), so it is skipped`,
        hint: `Write it for version ${containerdConfigVersion}: e.g. plugins."io.containerd.grpc.v1.cri".registry becomes plugins."io.containerd.cri.v1.images".registry.`,
      };
      (format === 'kind' ? warnings : problems).push(entry);
    }
  });
  config.containerdConfigPatchesJSON6902.forEach((text, i) => {
    catchPatch(() => parseJsonPatch(text), ['containerdConfigPatchesJSON6902', i], problems);
  });

  return { problems, warnings };
}

type Add = (path: ConfigPath, problem: string, hint?: string) => void;

function validateName(config: ClusterConfig, add: Add): void {
  const { name } = config;
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(name)) {
    add(
      ['name'],
      `${JSON.stringify(name)} is not a valid cluster name`,
      'Use lower-case letters, digits and "-", starting and ending with a letter or digit (a DNS-1123 label), e.g. dev.',
    );
    return;
  }
  const roles = config.nodes.map((n) => n.role);
  const longest = containerNames(name, roles).reduce((a, b) => (b.length > a.length ? b : a), '');
  if (longest.length > maxNodeNameLength) {
    const allowed = name.length - (longest.length - maxNodeNameLength);
    add(
      ['name'],
      `is too long: the container name ${longest} has ${longest.length} characters, more than the ${maxNodeNameLength} a hostname and node name allow`,
      `Use a name of at most ${allowed} characters.`,
    );
  }
}

function validateNode(
  node: NodeConfig,
  path: ConfigPath,
  add: Add,
  problems: ConfigProblem[],
  warnings: ConfigProblem[],
  format: ConfigFormat,
): void {
  if (!(nodeRoles as readonly string[]).includes(node.role)) {
    add(
      [...path, 'role'],
      `must be control-plane or worker, got ${JSON.stringify(node.role)}`,
      suggestion(node.role, nodeRoles),
    );
  }
  if (node.image !== undefined && !/^[^\s]+$/.test(node.image)) {
    add(
      [...path, 'image'],
      `${JSON.stringify(node.image)} is not an image reference`,
      'Use a reference like kur.local/node:v1.37.2, or remove image to use the default.',
    );
  }
  for (const [key, value] of Object.entries(node.labels)) {
    const labelPath = [...path, 'labels', key];
    const keyProblem = labelKeyProblem(key);
    if (keyProblem !== undefined) {
      problems.push({
        path: labelPath,
        at: 'key',
        problem: keyProblem,
        hint: 'Use a key like example.com/tier or tier.',
      });
    } else if (isKubernetesNamespace(key) && !isKubeletLabel(key)) {
      problems.push({
        path: labelPath,
        at: 'key',
        problem:
          'is in a kubernetes.io/k8s.io namespace the kubelet may not set on its own node; the kubelet would refuse to start',
        hint: 'Use your own prefix (e.g. example.com/role), a node.kubernetes.io/ or kubelet.kubernetes.io/ key, or label the node with kubectl after creation (node-role.kubernetes.io/* labels included).',
      });
    }
    if (!isLabelValue(value)) {
      add(
        labelPath,
        `value ${JSON.stringify(value)} is not a valid label value`,
        'Use at most 63 letters, digits, "-", "_" or ".", starting and ending with a letter or digit (or an empty string).',
      );
    }
  }
  const containerPaths = new Map<string, number>();
  node.extraMounts.forEach((mount, j) => {
    const mountPath = [...path, 'extraMounts', j];
    if (mount.hostPath === '')
      add([...mountPath], 'hostPath is required', 'Set hostPath to an absolute path on the host.');
    else if (!mount.hostPath.startsWith('/'))
      add(
        [...mountPath, 'hostPath'],
        `${JSON.stringify(mount.hostPath)} is not an absolute path`,
        'Write the full path, starting with /.',
      );
    if (mount.containerPath === '')
      add(
        [...mountPath],
        'containerPath is required',
        'Set containerPath to an absolute path inside the node.',
      );
    else if (!mount.containerPath.startsWith('/'))
      add(
        [...mountPath, 'containerPath'],
        `${JSON.stringify(mount.containerPath)} is not an absolute path`,
        'Write the full path, starting with /.',
      );
    else {
      const normalized = mount.containerPath.replace(/\/+$/, '') || '/';
      if (reservedContainerPaths.has(normalized)) {
        add(
          [...mountPath, 'containerPath'],
          `${normalized} would hide the node's own ${normalized}`,
          'Mount below it instead, e.g. /var/local-data.',
        );
      }
      const previous = containerPaths.get(normalized);
      if (previous !== undefined)
        add(
          [...mountPath, 'containerPath'],
          `${normalized} is already mounted by extraMounts[${previous}]`,
          'Use one mount per container path.',
        );
      containerPaths.set(normalized, j);
    }
    if (!(mountPropagations as readonly string[]).includes(mount.propagation)) {
      add(
        [...mountPath, 'propagation'],
        `must be one of ${mountPropagations.join(', ')}, got ${JSON.stringify(mount.propagation)}`,
        suggestion(mount.propagation, mountPropagations),
      );
    }
  });
  node.extraPortMappings.forEach((port, j) => {
    const portPath = [...path, 'extraPortMappings', j];
    if (port.containerPort === 0)
      add(
        portPath,
        'containerPort is required',
        'Set containerPort to the port inside the node (for a NodePort service, its nodePort).',
      );
    else checkPort(port.containerPort, [...portPath, 'containerPort'], false, add);
    checkPort(port.hostPort, [...portPath, 'hostPort'], true, add);
    if (!isIpAddress(port.listenAddress)) {
      add(
        [...portPath, 'listenAddress'],
        `${JSON.stringify(port.listenAddress)} is not an IP address`,
        'Use 127.0.0.1 (the default), 0.0.0.0 for every address, or a host IP.',
      );
    }
    if (!(portProtocols as readonly string[]).includes(port.protocol)) {
      add(
        [...portPath, 'protocol'],
        `must be one of ${portProtocols.join(', ')}, got ${JSON.stringify(port.protocol)}`,
        suggestion(port.protocol.toUpperCase(), portProtocols),
      );
    }
  });
  validateKubeadmPatches(
    node.kubeadmConfigPatches,
    node.kubeadmConfigPatchesJSON6902,
    path,
    problems,
    warnings,
    format,
  );
}

function validateKubeadmPatches(
  merge: readonly string[],
  json6902: readonly Json6902Patch[],
  base: ConfigPath,
  problems: ConfigProblem[],
  warnings: ConfigProblem[],
  format: ConfigFormat,
): void {
  merge.forEach((text, i) => {
    const path = [...base, 'kubeadmConfigPatches', i];
    const patch = catchPatch(() => parseKubeadmMergePatch(text), path, problems);
    if (patch === undefined) return;
    if (!(kubeadmDocumentKinds as readonly string[]).includes(patch.kind)) {
      problems.push({
        path,
        problem: `kind ${JSON.stringify(patch.kind)} is not a document kur generates`,
        hint: `Patch one of ${kubeadmDocumentKinds.join(', ')}.`,
      });
      return;
    }
    const expected = kubeadmDocumentVersions[patch.kind as KubeadmDocumentKind];
    if (patch.apiVersion !== undefined && patch.apiVersion !== expected) {
      const entry = {
        path,
        problem: `apiVersion ${patch.apiVersion} matches no generated document (kur writes ${patch.kind} as ${expected}), so the patch does nothing`,
        hint: `Set apiVersion: ${expected}, or remove apiVersion to patch whatever version kur writes.`,
      };
      (format === 'kind' ? warnings : problems).push(entry);
    }
  });
  json6902.forEach((patch, i) => {
    const path = [...base, 'kubeadmConfigPatchesJSON6902', i];
    if (!(kubeadmDocumentKinds as readonly string[]).includes(patch.kind)) {
      problems.push({
        path: patch.kind === '' ? path : [...path, 'kind'],
        problem:
          patch.kind === ''
            ? 'kind is required'
            : `kind ${JSON.stringify(patch.kind)} is not a document kur generates`,
        hint: `Set kind to one of ${kubeadmDocumentKinds.join(', ')}.`,
      });
    }
    catchPatch(() => parseJsonPatch(patch.patch), [...path, 'patch'], problems);
  });
}

function catchPatch<T>(parse: () => T, path: ConfigPath, problems: ConfigProblem[]): T | undefined {
  try {
    return parse();
  } catch (error) {
    if (!(error instanceof PatchError)) throw error;
    const problem: ConfigProblem = {
      path,
      problem: error.message,
      hint: 'Fix the patch text at that position.',
    };
    if (error.position !== undefined) problem.inner = error.position;
    problems.push(problem);
    return undefined;
  }
}

function checkPort(port: number, path: ConfigPath, zeroAllowed: boolean, add: Add): void {
  const min = zeroAllowed ? 0 : 1;
  if (port < min || port > 65535) {
    add(
      path,
      `must be between ${min} and 65535, got ${port}`,
      zeroAllowed ? 'Use 0 to let kur pick a free port.' : 'Use a port between 1 and 65535.',
    );
  }
}

function checkCidr(text: string, path: ConfigPath, add: Add): Ipv4Cidr | undefined {
  const result = parseIpv4Cidr(text);
  if (result.ok) return result.cidr;
  add(
    path,
    `${JSON.stringify(text)} ${result.problem}`,
    result.canonical !== undefined
      ? `Write ${result.canonical}.`
      : 'Write an IPv4 network like 10.244.0.0/16.',
  );
  return undefined;
}

/** Two host ports collide when protocol and port match and the addresses overlap (equal, or one is a wildcard). */
function validateHostPorts(config: ClusterConfig, add: Add): void {
  interface Claim {
    path: ConfigPath;
    address: string;
    protocol: string;
    port: number;
    what: string;
  }
  const claims: Claim[] = [];
  const net = config.networking;
  if (net.apiServerPort !== 0) {
    claims.push({
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
      claims.push({
        path: ['nodes', i, 'extraPortMappings', j, 'hostPort'],
        address: p.listenAddress,
        protocol: p.protocol,
        port: p.hostPort,
        what: `nodes[${i}].extraPortMappings[${j}]`,
      });
    }),
  );
  claims.forEach((claim, k) => {
    const earlier = claims
      .slice(0, k)
      .find(
        (c) =>
          c.port === claim.port &&
          c.protocol === claim.protocol &&
          (c.address === claim.address || isWildcardAddress(c.address) || isWildcardAddress(claim.address)),
      );
    if (earlier !== undefined) {
      add(
        claim.path,
        `host port ${claim.protocol} ${claim.address}:${claim.port} is already taken by ${earlier.what} (${earlier.address}:${earlier.port})`,
        'Use a different hostPort, or 0 to let kur pick one.',
      );
    }
  });
}

function suggestion(value: string, allowed: readonly string[]): string {
  const guess = closest(value, allowed);
  return guess !== undefined ? `Did you mean ${guess}?` : `Use one of ${allowed.join(', ')}.`;
}

const labelName = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const dnsSubdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

function labelKeyProblem(key: string): string | undefined {
  const slash = key.indexOf('/');
  const prefix = slash < 0 ? undefined : key.slice(0, slash);
  const name = slash < 0 ? key : key.slice(slash + 1);
  if (prefix !== undefined && (prefix.length > 253 || !dnsSubdomain.test(prefix))) {
    return `key prefix ${JSON.stringify(prefix)} is not a DNS subdomain`;
  }
  if (name.length === 0 || name.length > 63 || !labelName.test(name)) {
    return `key ${JSON.stringify(key)} is not a valid label key`;
  }
  return undefined;
}

function isLabelValue(value: string): boolean {
  return value === '' || (value.length <= 63 && labelName.test(value));
}

function labelNamespace(key: string): string {
  const slash = key.indexOf('/');
  return slash < 0 ? '' : key.slice(0, slash);
}

/** Labels in these namespaces are restricted for the kubelet's own node (kubelet's --node-labels check). */
function isKubernetesNamespace(key: string): boolean {
  const ns = labelNamespace(key);
  return ns === 'kubernetes.io' || ns.endsWith('.kubernetes.io') || ns === 'k8s.io' || ns.endsWith('.k8s.io');
}

const kubeletLabels = new Set([
  'kubernetes.io/hostname',
  'topology.kubernetes.io/zone',
  'topology.kubernetes.io/region',
  'failure-domain.beta.kubernetes.io/zone',
  'failure-domain.beta.kubernetes.io/region',
  'beta.kubernetes.io/instance-type',
  'node.kubernetes.io/instance-type',
  'kubernetes.io/os',
  'kubernetes.io/arch',
  'beta.kubernetes.io/os',
  'beta.kubernetes.io/arch',
]);
const kubeletLabelNamespaces = ['kubelet.kubernetes.io', 'node.kubernetes.io'];

function isKubeletLabel(key: string): boolean {
  if (kubeletLabels.has(key)) return true;
  const ns = labelNamespace(key);
  return kubeletLabelNamespaces.some((allowed) => ns === allowed || ns.endsWith(`.${allowed}`));
}
