import { isAbsolute, resolve } from 'node:path';
import { isKubeletLabel, isKubernetesNamespace, isLabelValue, labelKeyProblem } from './labels.js';
import { isIpAddress } from './net.js';
import type { ConfigPath, ProblemList } from './problems.js';
import type { Mount, NodeConfig, PortMapping } from './types.js';
import { mountPropagations, nodeRoles, portProtocols } from './types.js';
import { checkPort, suggestion } from './validate-values.js';

/** How host paths are checked: where relative ones start, and whether a path exists. */
export interface HostPaths {
  /** The config file's directory (stdin, or a config given as an object: the working directory). */
  baseDir: string;
  exists(path: string): boolean;
}

/** A mount's host path as kur uses it: relative paths resolve against the config's directory. */
export function resolveHostPath(hostPath: string, baseDir: string): string {
  return isAbsolute(hostPath) ? resolve(hostPath) : resolve(baseDir, hostPath);
}

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

export function validateNode(
  node: NodeConfig,
  path: ConfigPath,
  problems: ProblemList,
  host: HostPaths | undefined,
): void {
  if (!(nodeRoles as readonly string[]).includes(node.role)) {
    problems.add({
      path: [...path, 'role'],
      problem: `must be control-plane or worker, got ${JSON.stringify(node.role)}`,
      hint: suggestion(node.role, nodeRoles),
    });
  }
  if (node.image !== undefined && !/^[^\s]+$/.test(node.image)) {
    problems.add({
      path: [...path, 'image'],
      problem: `${JSON.stringify(node.image)} is not an image reference`,
      hint: 'Use a reference like kur.local/node:v1.37.2, or remove image to use the default.',
    });
  }
  validateLabels(node.labels, [...path, 'labels'], problems);
  const containerPaths = new Map<string, number>();
  node.extraMounts.forEach((mount, j) =>
    validateMount(mount, [...path, 'extraMounts', j], containerPaths, problems, host),
  );
  node.extraPortMappings.forEach((port, j) =>
    validatePortMapping(port, [...path, 'extraPortMappings', j], problems),
  );
}

function validateLabels(labels: Record<string, string>, path: ConfigPath, problems: ProblemList): void {
  for (const [key, value] of Object.entries(labels)) {
    const labelPath = [...path, key];
    const keyProblem = labelKeyProblem(key);
    if (keyProblem !== undefined) {
      problems.add({
        path: labelPath,
        at: 'key',
        problem: keyProblem,
        hint: 'Use a key like example.com/tier or tier.',
      });
    } else if (isKubernetesNamespace(key) && !isKubeletLabel(key)) {
      problems.add({
        path: labelPath,
        at: 'key',
        problem:
          'is in a kubernetes.io/k8s.io namespace the kubelet may not set on its own node; the kubelet would refuse to start',
        hint: 'Use your own prefix (e.g. example.com/role), a node.kubernetes.io/ or kubelet.kubernetes.io/ key, or label the node with kubectl after creation (node-role.kubernetes.io/* labels included).',
      });
    }
    if (!isLabelValue(value)) {
      problems.add({
        path: labelPath,
        problem: `value ${JSON.stringify(value)} is not a valid label value`,
        hint: 'Use at most 63 letters, digits, "-", "_" or ".", starting and ending with a letter or digit (or an empty string).',
      });
    }
  }
}

function validateMount(
  mount: Mount,
  path: ConfigPath,
  containerPaths: Map<string, number>,
  problems: ProblemList,
  host: HostPaths | undefined,
): void {
  if (mount.hostPath === '') {
    problems.add({ path, problem: 'hostPath is required', hint: 'Set hostPath to a path on the host.' });
  } else if (host !== undefined) {
    validateHostPath(mount, [...path, 'hostPath'], problems, host);
  }
  if (mount.containerPath === '') {
    problems.add({
      path,
      problem: 'containerPath is required',
      hint: 'Set containerPath to an absolute path inside the node.',
    });
  } else if (!mount.containerPath.startsWith('/')) {
    problems.add({
      path: [...path, 'containerPath'],
      problem: `${JSON.stringify(mount.containerPath)} is not an absolute path`,
      hint: 'Write the full path inside the node, starting with /.',
    });
  } else {
    const normalized = mount.containerPath.replace(/\/+$/, '') || '/';
    if (reservedContainerPaths.has(normalized)) {
      problems.add({
        path: [...path, 'containerPath'],
        problem: `${normalized} would hide the node's own ${normalized}`,
        hint: 'Mount below it instead, e.g. /var/local-data.',
      });
    }
    const previous = containerPaths.get(normalized);
    if (previous !== undefined) {
      problems.add({
        path: [...path, 'containerPath'],
        problem: `${normalized} is already mounted by extraMounts[${previous}]`,
        hint: 'Use one mount per container path.',
      });
    }
    containerPaths.set(normalized, path[path.length - 1] as number);
  }
  if (!(mountPropagations as readonly string[]).includes(mount.propagation)) {
    problems.add({
      path: [...path, 'propagation'],
      problem: `must be one of ${mountPropagations.join(', ')}, got ${JSON.stringify(mount.propagation)}`,
      hint: suggestion(mount.propagation, mountPropagations),
    });
  }
}

/** A host path must exist unless the mount says kur may create it: kur never makes one silently. */
function validateHostPath(mount: Mount, path: ConfigPath, problems: ProblemList, host: HostPaths): void {
  if (mount.createHostPath) return;
  const resolved = resolveHostPath(mount.hostPath, host.baseDir);
  if (host.exists(resolved)) return;
  const shown =
    resolved === mount.hostPath ? resolved : `${JSON.stringify(mount.hostPath)} (resolved: ${resolved})`;
  const tilde = mount.hostPath.startsWith('~') ? ' kur does not expand ~: write the home directory out.' : '';
  problems.add({
    path,
    problem: `${shown} does not exist on this host`,
    hint: `Create it first, fix the path, or set createHostPath: true to let kur create the directory.${tilde}`,
  });
}

function validatePortMapping(port: PortMapping, path: ConfigPath, problems: ProblemList): void {
  if (port.containerPort === 0) {
    problems.add({
      path,
      problem: 'containerPort is required',
      hint: 'Set containerPort to the port inside the node (for a NodePort service, its nodePort).',
    });
  } else {
    checkPort(port.containerPort, [...path, 'containerPort'], false, problems);
  }
  checkPort(port.hostPort, [...path, 'hostPort'], true, problems);
  if (!isIpAddress(port.listenAddress)) {
    problems.add({
      path: [...path, 'listenAddress'],
      problem: `${JSON.stringify(port.listenAddress)} is not an IP address`,
      hint: 'Use 127.0.0.1 (the default), 0.0.0.0 for every address, or a host IP.',
    });
  }
  if (!(portProtocols as readonly string[]).includes(port.protocol)) {
    problems.add({
      path: [...path, 'protocol'],
      problem: `must be one of ${portProtocols.join(', ')}, got ${JSON.stringify(port.protocol)}`,
      hint: suggestion(port.protocol.toUpperCase(), portProtocols),
    });
  }
}
