import { expect } from 'chai';
import { isKurError } from '../util/errors.js';
import type { KurError } from '../util/errors.js';
import { loadClusterConfig } from './load.js';
import { maxListedProblems } from './problems.js';
import { maxConfigBytes } from './source.js';

/**
 * A corpus of bad configs, one row each: the text, where the first problem is (line:col and
 * field), a fragment of the problem and of the fix. Each must fail as a config error (exit 3)
 * in under a second. Files sit in /cfg, where only /srv/data and /cfg/data exist.
 */
interface Case {
  title: string;
  lines: string[];
  /** `line:col field` of the first problem. */
  at: string;
  problem: string;
  hint: string;
  source?: string;
}

const kur = ['apiVersion: kur.dev/v1alpha1', 'kind: Cluster'];
const kind = ['apiVersion: kind.x-k8s.io/v1alpha4', 'kind: Cluster'];
const hostPaths = { baseDir: '/cfg', exists: (path: string) => ['/srv/data', '/cfg/data'].includes(path) };

/** A cluster-level kubeadm merge patch (its text starts on line 5, indented 4). */
const mergePatch = (...body: string[]): string[] => [
  ...kur,
  'kubeadmConfigPatches:',
  '  - |',
  ...body.map((l) => `    ${l}`),
];
/** A cluster-level JSON 6902 patch for `target` (operations start on line 7, indented 8). */
const jsonPatch = (target: string, ...ops: string[]): string[] => [
  ...kur,
  'kubeadmConfigPatchesJSON6902:',
  `  - kind: ${target}`,
  '    patch: |',
  ...ops.map((l) => `      ${l}`),
];
/** One node with these lines (indented under `- `, from line 4). */
const node = (...lines: string[]): string[] => [
  ...kur,
  'nodes:',
  ...lines.map((l, i) => `${i === 0 ? '  - ' : '    '}${l}`),
];
const mount = (...lines: string[]): string[] =>
  node('extraMounts:', ...lines.map((l, i) => `${i === 0 ? '  - ' : '    '}${l}`));
const port = (...lines: string[]): string[] =>
  node('extraPortMappings:', ...lines.map((l, i) => `${i === 0 ? '  - ' : '    '}${l}`));
const net = (...lines: string[]): string[] => [...kur, 'networking:', ...lines.map((l) => `  ${l}`)];

const cases: Case[] = [
  // Syntax
  {
    title: 'an unclosed flow list',
    lines: [...kur, 'nodes: [', ''],
    at: '4:1 (document)',
    problem: 'invalid YAML',
    hint: 'Fix the YAML syntax',
  },
  {
    title: 'a tab for indentation',
    lines: [...kur, 'nodes:', '\t- role: worker'],
    at: '4:1 (document)',
    problem: 'invalid YAML',
    hint: 'Fix the YAML syntax',
  },
  {
    title: 'an unclosed quote',
    lines: [...kur, 'name: "dev'],
    at: '3:11 (document)',
    problem: 'invalid YAML',
    hint: 'Fix the YAML syntax',
  },
  {
    title: 'a bad indentation',
    lines: [...kur, 'nodes:', '  - role: worker', ' bad: 1'],
    at: '5:1 (document)',
    problem: 'invalid YAML',
    hint: 'Fix the YAML syntax',
  },
  {
    title: 'a duplicate top-level key',
    lines: [...kur, 'name: a', 'name: b'],
    at: '4:1 (document)',
    problem: 'map keys must be unique; "name" is repeated',
    hint: 'Remove or rename one',
  },
  {
    title: 'a duplicate nested key',
    lines: [...net('podSubnet: 10.1.0.0/16', 'podSubnet: 10.2.0.0/16')],
    at: '5:3 (document)',
    problem: '"podSubnet" is repeated',
    hint: 'Remove or rename',
  },
  {
    title: 'an empty file',
    lines: [''],
    at: '1:1 (document)',
    problem: 'the file is empty',
    hint: 'Write a cluster config',
  },
  {
    title: 'only comments',
    lines: ['# nothing', '# here'],
    at: '1:1 (document)',
    problem: 'the file is empty',
    hint: 'Write a cluster config',
  },
  {
    title: 'only a separator',
    lines: ['---', ''],
    at: '1:1 (document)',
    problem: 'the file is empty',
    hint: 'Write a cluster config',
  },
  {
    title: 'a scalar document',
    lines: ['hello'],
    at: '1:1 (document)',
    problem: 'expected a mapping',
    hint: 'Start the file with',
  },
  {
    title: 'a list document',
    lines: ['- a'],
    at: '1:1 (document)',
    problem: 'expected a mapping',
    hint: 'Start the file with',
  },
  // Multiple documents
  {
    title: 'two documents',
    lines: [...kur, '---', ...kur],
    at: '3:1 (document)',
    problem: 'more than one YAML document',
    hint: 'Put exactly one',
  },
  {
    title: 'a second document after an empty one',
    lines: ['---', ...kur, '---', '---', 'name: x'],
    at: '5:1 (document)',
    problem: 'more than one YAML document',
    hint: 'Put exactly one',
  },
  {
    title: 'a second document that is only a scalar',
    lines: [...kur, '--- x'],
    at: '3:1 (document)',
    problem: 'more than one YAML document',
    hint: 'Put exactly one',
  },
  // apiVersion and kind
  {
    title: 'no apiVersion',
    lines: ['kind: Cluster'],
    at: '1:1 (document)',
    problem: 'apiVersion is missing',
    hint: 'Add `apiVersion: kur.dev/v1alpha1`',
  },
  {
    title: 'a numeric apiVersion',
    lines: ['apiVersion: 1', 'kind: Cluster'],
    at: '1:13 apiVersion',
    problem: 'apiVersion is missing or not a string',
    hint: 'Add `apiVersion',
  },
  {
    title: 'a misspelt apiVersion',
    lines: ['apiVersion: kur.dev/v1alpha2', 'kind: Cluster'],
    at: '1:13 apiVersion',
    problem: 'unsupported apiVersion',
    hint: 'Did you mean kur.dev/v1alpha1?',
  },
  {
    title: "kind's older apiVersion",
    lines: ['apiVersion: kind.x-k8s.io/v1alpha3', 'kind: Cluster'],
    at: '1:13 apiVersion',
    problem: 'unsupported apiVersion',
    hint: 'need converting',
  },
  {
    title: 'no kind',
    lines: ['apiVersion: kur.dev/v1alpha1'],
    at: '1:1 (document)',
    problem: 'kind is missing',
    hint: 'Set `kind: Cluster`',
  },
  {
    title: 'another kind',
    lines: ['apiVersion: kur.dev/v1alpha1', 'kind: Config'],
    at: '2:7 kind',
    problem: 'unsupported kind "Config"',
    hint: 'Set `kind: Cluster`',
  },
  // Unknown fields at each level
  {
    title: 'an unknown top-level field',
    lines: [...kur, 'nodess: []'],
    at: '3:1 nodess',
    problem: 'unknown field',
    hint: 'Did you mean "nodes"?',
  },
  {
    title: 'an unknown field with no near name',
    lines: [...kur, 'zzzzzzzz: 1'],
    at: '3:1 zzzzzzzz',
    problem: 'unknown field',
    hint: 'Known fields here',
  },
  {
    title: 'an unknown node field',
    lines: node('rol: worker'),
    at: '4:5 nodes[0].rol',
    problem: 'unknown field',
    hint: 'Did you mean "role"?',
  },
  {
    title: 'an unknown mount field',
    lines: mount('hostPath: /srv/data', 'containerPath: /d', 'readonly: true'),
    at: '7:9 nodes[0].extraMounts[0].readonly',
    problem: 'unknown field',
    hint: 'Did you mean "readOnly"?',
  },
  {
    title: 'an unknown port field',
    lines: port('containerPort: 80', 'hostport: 8080'),
    at: '6:9 nodes[0].extraPortMappings[0].hostport',
    problem: 'unknown field',
    hint: 'Did you mean "hostPort"?',
  },
  {
    title: 'an unknown networking field',
    lines: net('podSubnett: 10.0.0.0/16'),
    at: '4:3 networking.podSubnett',
    problem: 'unknown field',
    hint: 'Did you mean "podSubnet"?',
  },
  {
    title: 'an unknown JSON 6902 patch field',
    lines: [...kur, 'kubeadmConfigPatchesJSON6902:', '  - kind: InitConfiguration', '    pach: "[]"'],
    at: '5:5 kubeadmConfigPatchesJSON6902[0].pach',
    problem: 'unknown field',
    hint: 'Did you mean "patch"?',
  },
  {
    title: 'a non-string key',
    lines: [...kur, 'labels2: 1', '1: x'],
    at: '3:1 labels2',
    problem: 'unknown field',
    hint: 'Known fields',
  },
  // Types
  {
    title: 'a string for a list',
    lines: [...kur, 'nodes: worker'],
    at: '3:8 nodes',
    problem: 'expected a list, got the string "worker"',
    hint: 'Write a YAML list',
  },
  {
    title: 'a list for a mapping',
    lines: [...kur, 'networking: [a]'],
    at: '3:13 networking',
    problem: 'expected a mapping, got a list',
    hint: 'Write `field: value` pairs',
  },
  {
    title: 'a quoted port',
    lines: port('containerPort: "80"'),
    at: '5:24 nodes[0].extraPortMappings[0].containerPort',
    problem: 'expected an integer, got the string "80"',
    hint: 'Remove the quotes: 80',
  },
  {
    title: 'a fractional port',
    lines: port('containerPort: 80.5'),
    at: '5:24 nodes[0].extraPortMappings[0].containerPort',
    problem: 'expected an integer',
    hint: 'Write a whole number',
  },
  {
    title: 'yes for a boolean',
    lines: mount('hostPath: /srv/data', 'containerPath: /d', 'readOnly: yes'),
    at: '7:19 nodes[0].extraMounts[0].readOnly',
    problem: 'expected a boolean, got the string "yes"',
    hint: 'YAML 1.2 reads yes/no',
  },
  {
    title: 'a quoted boolean',
    lines: net('disableDefaultCNI: "true"'),
    at: '4:22 networking.disableDefaultCNI',
    problem: 'expected a boolean',
    hint: 'Write true or false',
  },
  {
    title: 'a number for a string',
    lines: [...kur, 'name: 42'],
    at: '3:7 name',
    problem: 'expected a string, got the number 42',
    hint: 'Quote the value',
  },
  {
    title: 'a mapping for a string',
    lines: node('role: {a: 1}'),
    at: '4:11 nodes[0].role',
    problem: 'expected a string, got a mapping',
    hint: '',
  },
  {
    title: 'a number label value',
    lines: node('labels: {tier: 1}'),
    at: '4:20 nodes[0].labels.tier',
    problem: 'expected a string, got the number 1',
    hint: 'Quote the value',
  },
  {
    title: 'a string feature gate',
    lines: [...kur, 'featureGates: {A: "true"}'],
    at: '3:19 featureGates.A',
    problem: 'expected a boolean',
    hint: 'Write true or false',
  },
  {
    title: 'a boolean runtime config',
    lines: [...kur, 'runtimeConfig: {api/alpha: true}'],
    at: '3:28 runtimeConfig["api/alpha"]',
    problem: 'expected a string, got the boolean true',
    hint: 'Quote the value',
  },
  {
    title: 'a mapping for a patch',
    lines: [...kur, 'kubeadmConfigPatches:', '  - {kind: X}'],
    at: '4:5 kubeadmConfigPatches[0]',
    problem: 'expected a string, got a mapping',
    hint: '',
  },
  {
    title: 'a string for the node list item',
    lines: [...kur, 'nodes:', '  - worker'],
    at: '4:5 nodes[0]',
    problem: 'expected a mapping, got the string "worker"',
    hint: 'Write `field: value` pairs',
  },
  // Names
  {
    title: 'an upper-case name',
    lines: [...kur, 'name: Dev'],
    at: '3:7 name',
    problem: '"Dev" is not a valid cluster name',
    hint: 'DNS-1123 label',
  },
  {
    title: 'a name with a dot',
    lines: [...kur, 'name: a.b'],
    at: '3:7 name',
    problem: 'is not a valid cluster name',
    hint: 'DNS-1123',
  },
  {
    title: 'a name ending in -',
    lines: [...kur, 'name: dev-'],
    at: '3:7 name',
    problem: 'is not a valid cluster name',
    hint: 'DNS-1123',
  },
  {
    title: 'an empty name',
    lines: [...kur, 'name: ""'],
    at: '3:7 name',
    problem: 'is not a valid cluster name',
    hint: 'DNS-1123',
  },
  {
    title: 'a too long name',
    lines: [...kur, `name: ${'a'.repeat(60)}`],
    at: '3:7 name',
    problem: 'is too long',
    hint: 'Use a name of at most 49 characters',
  },
  {
    title: 'a bad role',
    lines: node('role: master'),
    at: '4:11 nodes[0].role',
    problem: 'must be control-plane or worker',
    hint: 'Use one of control-plane, worker',
  },
  {
    title: 'a role typo',
    lines: node('role: workers'),
    at: '4:11 nodes[0].role',
    problem: 'must be control-plane or worker, got "workers"',
    hint: 'Did you mean worker?',
  },
  {
    title: 'only workers',
    lines: node('role: worker'),
    at: '4:3 nodes',
    problem: 'needs at least one node with role: control-plane',
    hint: 'Add `- role: control-plane`',
  },
  {
    title: 'an empty node list',
    lines: [...kur, 'nodes: []'],
    at: '3:8 nodes',
    problem: 'is empty',
    hint: 'remove nodes for a one-node cluster',
  },
  {
    title: 'an image with a space',
    lines: node('image: "kur node"'),
    at: '4:12 nodes[0].image',
    problem: 'is not an image reference',
    hint: 'Use a reference like',
  },
  {
    title: 'a bad label key',
    lines: node('labels: {"-x": a}'),
    at: '4:14 nodes[0].labels["-x"]',
    problem: 'is not a valid label key',
    hint: 'Use a key like',
  },
  {
    title: 'a bad label prefix',
    lines: node('labels: {"Ex.com/x": a}'),
    at: '4:14 nodes[0].labels["Ex.com/x"]',
    problem: 'is not a DNS subdomain',
    hint: 'Use a key like',
  },
  {
    title: 'a restricted label',
    lines: node('labels: {"node-role.kubernetes.io/x": ""}'),
    at: '4:14 nodes[0].labels["node-role.kubernetes.io/x"]',
    problem: 'the kubelet may not set',
    hint: 'Use your own prefix',
  },
  {
    title: 'a long label value',
    lines: node(`labels: {a: ${'v'.repeat(64)}}`),
    at: '4:17 nodes[0].labels.a',
    problem: 'is not a valid label value',
    hint: 'at most 63',
  },
  {
    title: 'a bad feature gate name',
    lines: [...kur, 'featureGates: {"my-gate": true}'],
    at: '3:27 featureGates["my-gate"]',
    problem: 'is not a feature gate name',
    hint: 'CamelCase',
  },
  {
    title: 'a runtime config key with =',
    lines: [...kur, 'runtimeConfig: {"a=b": "true"}'],
    at: '3:24 runtimeConfig["a=b"]',
    problem: 'is not an API group/version',
    hint: 'Use keys like api/alpha',
  },
  {
    title: 'a runtime config value with a comma',
    lines: [...kur, 'runtimeConfig: {api/alpha: "true,false"}'],
    at: '3:28 runtimeConfig["api/alpha"]',
    problem: 'must not contain commas',
    hint: 'Use "true" or "false"',
  },
  // CIDRs and overlaps
  {
    title: 'a pod subnet without prefix',
    lines: net('podSubnet: 10.244.0.0'),
    at: '4:14 networking.podSubnet',
    problem: 'is not a CIDR',
    hint: 'Write an IPv4 network',
  },
  {
    title: 'a pod subnet with host bits',
    lines: net('podSubnet: 10.244.1.0/16'),
    at: '4:14 networking.podSubnet',
    problem: 'has host bits set',
    hint: 'Write 10.244.0.0/16',
  },
  {
    title: 'a pod subnet with a bad address',
    lines: net('podSubnet: 10.300.0.0/16'),
    at: '4:14 networking.podSubnet',
    problem: 'invalid IPv4 address',
    hint: 'Write an IPv4 network',
  },
  {
    title: 'a pod subnet with leading zeros',
    lines: net('podSubnet: 010.1.0.0/16'),
    at: '4:14 networking.podSubnet',
    problem: 'invalid IPv4 address',
    hint: 'Write an IPv4 network',
  },
  {
    title: 'an IPv6 service subnet',
    lines: net('serviceSubnet: fd00::/108'),
    at: '4:18 networking.serviceSubnet',
    problem: 'is IPv6',
    hint: 'Write an IPv4 network',
  },
  {
    title: 'a prefix over 32',
    lines: net('serviceSubnet: 10.96.0.0/40'),
    at: '4:18 networking.serviceSubnet',
    problem: 'invalid prefix length',
    hint: 'Write an IPv4 network',
  },
  {
    title: 'a tiny pod subnet',
    lines: net('podSubnet: 10.244.0.0/25'),
    at: '4:14 networking.podSubnet',
    problem: 'is too small',
    hint: 'Use a /16',
  },
  {
    title: 'a pod subnet for too few nodes',
    lines: [...net('podSubnet: 10.244.0.0/24'), 'nodes: [{}, {role: worker}]'],
    at: '4:14 networking.podSubnet',
    problem: 'holds 1 node subnets',
    hint: 'Use a larger pod subnet',
  },
  {
    title: 'a tiny service subnet',
    lines: net('serviceSubnet: 10.96.0.0/30'),
    at: '4:18 networking.serviceSubnet',
    problem: 'too small for the API server',
    hint: 'at least a /28',
  },
  {
    title: 'overlapping subnets',
    lines: net('podSubnet: 10.0.0.0/8', 'serviceSubnet: 10.96.0.0/16'),
    at: '5:18 networking.serviceSubnet',
    problem: 'overlaps podSubnet 10.0.0.0/8',
    hint: 'Use disjoint ranges',
  },
  {
    title: 'a bad API server address',
    lines: net('apiServerAddress: localhost'),
    at: '4:21 networking.apiServerAddress',
    problem: 'is not an IP address',
    hint: 'Use 127.0.0.1',
  },
  {
    title: 'ipvs',
    lines: net('kubeProxyMode: ipvs'),
    at: '4:18 networking.kubeProxyMode',
    problem: 'ipvs is not supported',
    hint: 'Use kubeProxyMode: nftables',
  },
  {
    title: 'a kube-proxy mode typo',
    lines: net('kubeProxyMode: nftable'),
    at: '4:18 networking.kubeProxyMode',
    problem: 'must be one of iptables, nftables',
    hint: 'Did you mean nftables?',
  },
  // Ports
  {
    title: 'an API server port out of range',
    lines: net('apiServerPort: 70000'),
    at: '4:18 networking.apiServerPort',
    problem: 'must be between 0 and 65535, got 70000',
    hint: 'Use 0 to let kur pick',
  },
  {
    title: 'a negative API server port',
    lines: net('apiServerPort: -1'),
    at: '4:18 networking.apiServerPort',
    problem: 'must be between 0 and 65535',
    hint: 'Use 0',
  },
  {
    title: 'no container port',
    lines: port('hostPort: 8080'),
    at: '5:9 nodes[0].extraPortMappings[0]',
    problem: 'containerPort is required',
    hint: 'Set containerPort',
  },
  {
    title: 'a container port of 70000',
    lines: port('containerPort: 70000'),
    at: '5:24 nodes[0].extraPortMappings[0].containerPort',
    problem: 'must be between 1 and 65535',
    hint: 'Use a port between 1 and 65535',
  },
  {
    title: 'a negative host port',
    lines: port('containerPort: 80', 'hostPort: -5'),
    at: '6:19 nodes[0].extraPortMappings[0].hostPort',
    problem: 'must be between 0 and 65535, got -5',
    hint: 'Use 0',
  },
  {
    title: 'a bad listen address',
    lines: port('containerPort: 80', 'listenAddress: any'),
    at: '6:24 nodes[0].extraPortMappings[0].listenAddress',
    problem: 'is not an IP address',
    hint: 'Use 127.0.0.1',
  },
  {
    title: 'a lower-case protocol',
    lines: port('containerPort: 80', 'protocol: tcpp'),
    at: '6:19 nodes[0].extraPortMappings[0].protocol',
    problem: 'must be one of TCP, UDP, SCTP',
    hint: 'Did you mean TCP?',
  },
  {
    title: 'a host port used twice',
    lines: [
      ...port('containerPort: 80', 'hostPort: 8080'),
      '      - containerPort: 81',
      '        hostPort: 8080',
    ],
    at: '8:19 nodes[0].extraPortMappings[1].hostPort',
    problem: 'is already taken by nodes[0].extraPortMappings[0]',
    hint: 'Use a different hostPort',
  },
  {
    title: 'a host port clashing with a wildcard',
    lines: [
      ...port('containerPort: 80', 'hostPort: 8080', 'listenAddress: 0.0.0.0'),
      '      - containerPort: 81',
      '        hostPort: 8080',
    ],
    at: '9:19 nodes[0].extraPortMappings[1].hostPort',
    problem: 'already taken',
    hint: 'Use a different hostPort',
  },
  {
    title: 'a host port clashing with the API server',
    lines: [...net('apiServerPort: 6443'), ...port('containerPort: 80', 'hostPort: 6443').slice(2)],
    at: '8:19 nodes[0].extraPortMappings[0].hostPort',
    problem: 'already taken by networking.apiServerPort',
    hint: 'Use a different hostPort',
  },
  // Mounts
  {
    title: 'a missing host path',
    lines: mount('hostPath: /srv/nope', 'containerPath: /d'),
    at: '5:19 nodes[0].extraMounts[0].hostPath',
    problem: '/srv/nope does not exist on this host',
    hint: 'set createHostPath: true',
  },
  {
    title: 'a missing relative host path, shown resolved',
    lines: mount('hostPath: ../x', 'containerPath: /d'),
    at: '5:19 nodes[0].extraMounts[0].hostPath',
    problem: '"../x" (resolved: /x) does not exist',
    hint: 'set createHostPath: true',
  },
  {
    title: 'a host path starting with ~',
    lines: mount('hostPath: ~/data', 'containerPath: /d'),
    at: '5:19 nodes[0].extraMounts[0].hostPath',
    problem: '(resolved: /cfg/~/data) does not exist',
    hint: 'kur does not expand ~',
  },
  {
    title: 'no host path',
    lines: mount('containerPath: /d'),
    at: '5:9 nodes[0].extraMounts[0]',
    problem: 'hostPath is required',
    hint: 'Set hostPath',
  },
  {
    title: 'no container path',
    lines: mount('hostPath: /srv/data'),
    at: '5:9 nodes[0].extraMounts[0]',
    problem: 'containerPath is required',
    hint: 'Set containerPath',
  },
  {
    title: 'a relative container path',
    lines: mount('hostPath: /srv/data', 'containerPath: data'),
    at: '6:24 nodes[0].extraMounts[0].containerPath',
    problem: 'is not an absolute path',
    hint: 'starting with /',
  },
  {
    title: 'a mount over /var',
    lines: mount('hostPath: /srv/data', 'containerPath: /var/'),
    at: '6:24 nodes[0].extraMounts[0].containerPath',
    problem: "/var would hide the node's own /var",
    hint: 'Mount below it',
  },
  {
    title: 'a container path mounted twice',
    lines: [
      ...mount('hostPath: /srv/data', 'containerPath: /d'),
      '      - hostPath: /cfg/data',
      '        containerPath: /d',
    ],
    at: '8:24 nodes[0].extraMounts[1].containerPath',
    problem: 'is already mounted by extraMounts[0]',
    hint: 'one mount per container path',
  },
  {
    title: 'a bad propagation',
    lines: mount('hostPath: /srv/data', 'containerPath: /d', 'propagation: rshared'),
    at: '7:22 nodes[0].extraMounts[0].propagation',
    problem: 'must be one of None, HostToContainer, Bidirectional',
    hint: 'Use one of',
  },
  {
    title: 'a string createHostPath',
    lines: mount('hostPath: /srv/x', 'containerPath: /d', 'createHostPath: "yes"'),
    at: '7:25 nodes[0].extraMounts[0].createHostPath',
    problem: 'expected a boolean',
    hint: 'YAML 1.2 reads yes/no',
  },
  // kubeadm merge patches
  {
    title: 'a typo in a kubeadm field',
    lines: mergePatch('kind: ClusterConfiguration', 'apiServerr:', '  certSANs: [a]'),
    at: '6:5 kubeadmConfigPatches[0]',
    problem: 'ClusterConfiguration has no field "apiServerr"',
    hint: 'Did you mean "apiServer"?',
  },
  {
    title: 'a nested typo in a kubeadm field',
    lines: mergePatch('kind: ClusterConfiguration', 'apiServer:', '  certSAN: [a]'),
    at: '7:7 kubeadmConfigPatches[0]',
    problem: 'ClusterConfiguration.apiServer has no field "certSAN"',
    hint: 'Did you mean "certSANs"?',
  },
  {
    title: 'a kubelet field typo',
    lines: mergePatch('kind: KubeletConfiguration', 'maxPod: 10'),
    at: '6:5 kubeadmConfigPatches[0]',
    problem: 'KubeletConfiguration has no field "maxPod"',
    hint: 'Did you mean "maxPods"?',
  },
  {
    title: 'a kubelet field of the wrong type',
    lines: mergePatch('kind: KubeletConfiguration', 'maxPods: "150"'),
    at: '6:14 kubeadmConfigPatches[0]',
    problem: 'KubeletConfiguration.maxPods must be an integer, got the string "150"',
    hint: 'Write an integer',
  },
  {
    title: 'a kube-proxy field typo',
    lines: mergePatch('kind: KubeProxyConfiguration', 'conntrack:', '  maxPerCor: 0'),
    at: '7:7 kubeadmConfigPatches[0]',
    problem: 'KubeProxyConfiguration.conntrack has no field "maxPerCor"',
    hint: 'Did you mean "maxPerCore"?',
  },
  {
    title: 'an init field in a list item',
    lines: mergePatch('kind: InitConfiguration', 'bootstrapTokens:', '  - tokn: x'),
    at: '7:9 kubeadmConfigPatches[0]',
    problem: 'InitConfiguration.bootstrapTokens[0] has no field "tokn"',
    hint: 'Did you mean "token"?',
  },
  {
    title: 'a join field typo',
    lines: mergePatch('kind: JoinConfiguration', 'nodeRegistration:', '  taint: []'),
    at: '7:7 kubeadmConfigPatches[0]',
    problem: 'JoinConfiguration.nodeRegistration has no field "taint"',
    hint: 'Did you mean "taints"?',
  },
  {
    title: 'extraArgs of the wrong shape',
    lines: mergePatch('kind: ClusterConfiguration', 'apiServer:', '  extraArgs: v'),
    at: '7:18 kubeadmConfigPatches[0]',
    problem: 'extraArgs must be a list',
    hint: 'Write a list',
  },
  {
    title: 'a merge patch without kind',
    lines: mergePatch('apiServer: {}'),
    at: '4:5 kubeadmConfigPatches[0]',
    problem: 'the patch needs a kind',
    hint: 'Fix the patch text',
  },
  {
    title: 'a merge patch of an unknown kind',
    lines: mergePatch('kind: KubeletConfig'),
    at: '5:11 kubeadmConfigPatches[0]',
    problem: 'kind "KubeletConfig" is not a document kur generates',
    hint: 'Patch one of',
  },
  {
    title: 'a merge patch that is a list',
    lines: mergePatch('- a'),
    at: '4:5 kubeadmConfigPatches[0]',
    problem: 'must be a YAML mapping',
    hint: 'Fix the patch text',
  },
  {
    title: 'a merge patch with a YAML error',
    lines: mergePatch('kind: ClusterConfiguration', 'apiServer: [', ''),
    at: '6:17 kubeadmConfigPatches[0]',
    problem: 'invalid YAML',
    hint: 'Fix the patch text',
  },
  {
    title: 'a merge patch for an old apiVersion',
    lines: mergePatch('apiVersion: kubeadm.k8s.io/v1beta3', 'kind: ClusterConfiguration'),
    at: '5:17 kubeadmConfigPatches[0]',
    problem: 'matches no generated document',
    hint: 'Set apiVersion: kubeadm.k8s.io/v1beta4',
  },
  {
    title: 'a node-level merge patch typo',
    lines: node('kubeadmConfigPatches:', '  - |', '    kind: JoinConfiguration', '    discover: {}'),
    at: '7:9 nodes[0].kubeadmConfigPatches[0]',
    problem: 'JoinConfiguration has no field "discover"',
    hint: 'Did you mean "discovery"?',
  },
  // kubeadm JSON 6902 patches
  {
    title: 'a JSON patch on a path no type has',
    lines: jsonPatch('ClusterConfiguration', '- op: remove', '  path: /no/such/thing'),
    at: '7:15 kubeadmConfigPatchesJSON6902[0].patch',
    problem: 'operation 0 (remove /no/such/thing): ClusterConfiguration has no field "no"',
    hint: 'Fields of ClusterConfiguration',
  },
  {
    title: 'a JSON patch path with a typo',
    lines: jsonPatch('ClusterConfiguration', '- {op: add, path: /apiServer/certSAN/-, value: x}'),
    at: '6:25 kubeadmConfigPatchesJSON6902[0].patch',
    problem: 'ClusterConfiguration.apiServer has no field "certSAN"',
    hint: 'Did you mean "certSANs"?',
  },
  {
    title: 'a JSON patch value with a typo',
    lines: jsonPatch(
      'KubeletConfiguration',
      '- {op: add, path: /evictionHard, value: {memory.available: 1}}',
    ),
    at: '6:66 kubeadmConfigPatchesJSON6902[0].patch',
    problem: 'KubeletConfiguration.evictionHard.memory.available must be a string, got 1',
    hint: 'Quote the value',
  },
  {
    title: 'a JSON patch value object with an unknown field',
    lines: jsonPatch('ClusterConfiguration', '- op: add', '  path: /apiServer', '  value: {extraArgz: []}'),
    at: '8:17 kubeadmConfigPatchesJSON6902[0].patch',
    problem: 'ClusterConfiguration.apiServer has no field "extraArgz"',
    hint: 'Did you mean "extraArgs"?',
  },
  {
    title: 'a JSON patch list index that is a word',
    lines: jsonPatch('ClusterConfiguration', '- {op: remove, path: /apiServer/certSANs/first}'),
    at: '6:28 kubeadmConfigPatchesJSON6902[0].patch',
    problem: 'is a list: "first" is not an index',
    hint: 'Use a list index',
  },
  {
    title: 'a JSON patch below a string',
    lines: jsonPatch('ClusterConfiguration', '- {op: add, path: /clusterName/x, value: 1}'),
    at: '6:25 kubeadmConfigPatchesJSON6902[0].patch',
    problem: 'ClusterConfiguration.clusterName is a string',
    hint: 'Point the patch at',
  },
  {
    title: 'a JSON patch from-path typo',
    lines: jsonPatch('ClusterConfiguration', '- {op: copy, from: /clustername, path: /controlPlaneEndpoint}'),
    at: '6:26 kubeadmConfigPatchesJSON6902[0].patch',
    problem: 'has no field "clustername"',
    hint: 'Did you mean "clusterName"?',
  },
  {
    title: 'a JSON patch value of the wrong type',
    lines: jsonPatch('KubeletConfiguration', '- {op: replace, path: /maxPods, value: many}'),
    at: '6:46 kubeadmConfigPatchesJSON6902[0].patch',
    problem: 'KubeletConfiguration.maxPods must be an integer',
    hint: 'Write an integer',
  },
  {
    title: 'a JSON patch with a bad op',
    lines: jsonPatch('ClusterConfiguration', '- op: append', '  path: /a'),
    at: '6:9 kubeadmConfigPatchesJSON6902[0].patch',
    problem: 'op must be one of',
    hint: 'Fix the patch text',
  },
  {
    title: 'a JSON patch without value',
    lines: jsonPatch('ClusterConfiguration', '- {op: add, path: /clusterName}', '- {op: add, path: /x}'),
    at: '6:9 kubeadmConfigPatchesJSON6902[0].patch',
    problem: 'operation 0: add needs a value',
    hint: 'Fix the patch text',
  },
  {
    title: 'a JSON patch path that is no pointer',
    lines: jsonPatch('ClusterConfiguration', '- {op: remove, path: clusterName}'),
    at: '6:9 kubeadmConfigPatchesJSON6902[0].patch',
    problem: 'is not a JSON pointer',
    hint: 'Fix the patch text',
  },
  {
    title: 'a JSON patch that is a mapping',
    lines: jsonPatch('ClusterConfiguration', 'op: remove'),
    at: '5:12 kubeadmConfigPatchesJSON6902[0].patch',
    problem: 'must be a list of operations',
    hint: 'Fix the patch text',
  },
  {
    title: 'a JSON patch without kind',
    lines: [...kur, 'kubeadmConfigPatchesJSON6902:', '  - patch: "[]"'],
    at: '4:5 kubeadmConfigPatchesJSON6902[0]',
    problem: 'kind is required',
    hint: 'Set kind to one of',
  },
  {
    title: 'a JSON patch of an unknown kind',
    lines: jsonPatch('Deployment', '[]'),
    at: '4:11 kubeadmConfigPatchesJSON6902[0].kind',
    problem: 'is not a document kur generates',
    hint: 'Set kind to one of',
  },
  {
    title: 'a JSON patch for another version',
    lines: [
      ...kur,
      'kubeadmConfigPatchesJSON6902:',
      '  - {kind: ClusterConfiguration, version: v1beta3, patch: "[]"}',
    ],
    at: '4:5 kubeadmConfigPatchesJSON6902[0]',
    problem: 'group/version /v1beta3 matches no generated document',
    hint: 'Set group and version',
  },
  {
    title: 'a node-level JSON patch typo',
    lines: node(
      'kubeadmConfigPatchesJSON6902:',
      '  - kind: InitConfiguration',
      '    patch: "[{op: remove, path: /nodeRegistraton}]"',
    ),
    at: '6:37 nodes[0].kubeadmConfigPatchesJSON6902[0].patch',
    problem: 'has no field "nodeRegistraton"',
    hint: 'Did you mean "nodeRegistration"?',
  },
  // containerd patches
  {
    title: 'a TOML syntax error',
    lines: [...kur, 'containerdConfigPatches:', '  - |', '    [plugins', ''],
    at: '5:13 containerdConfigPatches[0]',
    problem: 'invalid TOML',
    hint: 'Fix the patch text',
  },
  {
    title: 'a TOML value without quotes',
    lines: [
      ...kur,
      'containerdConfigPatches:',
      '  - |',
      '    [plugins."io.containerd.cri.v1.images"]',
      '    snapshotter = native',
    ],
    at: '6:19 containerdConfigPatches[0]',
    problem: 'invalid TOML',
    hint: 'Fix the patch text',
  },
  {
    title: 'a TOML patch for containerd 1.x',
    lines: [...kur, 'containerdConfigPatches:', '  - |', '    version = 2'],
    at: '4:5 containerdConfigPatches[0]',
    problem: 'is for containerd config version 2',
    hint: 'Write it for version 3',
  },
  {
    title: 'a containerd JSON patch that is no list',
    lines: [...kur, 'containerdConfigPatchesJSON6902:', '  - "op: add"'],
    at: '4:5 containerdConfigPatchesJSON6902[0]',
    problem: 'must be a list of operations',
    hint: 'Fix the patch text',
  },
  {
    title: 'a containerd JSON patch with a bad op',
    lines: [...kur, 'containerdConfigPatchesJSON6902:', '  - "[{op: delete, path: /a}]"'],
    at: '4:7 containerdConfigPatchesJSON6902[0]',
    problem: 'op must be one of',
    hint: 'Fix the patch text',
  },
  // kind v1alpha4 files with fields kur does not support
  {
    title: 'kind selinuxRelabel',
    lines: [
      ...kind,
      'nodes:',
      '  - extraMounts:',
      '      - {hostPath: /srv/data, containerPath: /d, selinuxRelabel: true}',
    ],
    at: '5:50 nodes[0].extraMounts[0].selinuxRelabel',
    problem: 'is not supported by kur',
    hint: 'chcon',
  },
  {
    title: 'kind ipFamily ipv6',
    lines: [...kind, 'networking: {ipFamily: ipv6}'],
    at: '3:14 networking.ipFamily',
    problem: 'only ipv4 is supported',
    hint: 'Remove ipFamily',
  },
  {
    title: 'kind ipFamily dual',
    lines: [...kind, 'networking: {ipFamily: dual}'],
    at: '3:14 networking.ipFamily',
    problem: 'only ipv4 is supported',
    hint: 'Remove ipFamily',
  },
  {
    title: 'kind dnsSearch',
    lines: [...kind, 'networking: {dnsSearch: [a.example]}'],
    at: '3:14 networking.dnsSearch',
    problem: 'is not supported by kur',
    hint: 'take DNS settings from the engine',
  },
  {
    title: 'kind kubeProxyMode none',
    lines: [...kind, 'networking: {kubeProxyMode: none}'],
    at: '3:29 networking.kubeProxyMode',
    problem: 'none (no kube-proxy) is not supported',
    hint: 'Use iptables or nftables',
  },
  {
    title: 'kind kubeProxyMode ipvs',
    lines: [...kind, 'networking: {kubeProxyMode: ipvs}'],
    at: '3:29 networking.kubeProxyMode',
    problem: 'ipvs is not supported',
    hint: 'nftables',
  },
  {
    title: 'kind containerdConfigPatches for version 2 that also breaks TOML',
    lines: [...kind, 'containerdConfigPatches:', '  - "version = "'],
    at: '4:16 containerdConfigPatches[0]',
    problem: 'invalid TOML',
    hint: 'Fix the patch text',
  },
  {
    title: 'a kind unknown field',
    lines: [...kind, 'nodes:', '  - role: worker', '    extraPortMapping: []'],
    at: '5:5 nodes[0].extraPortMapping',
    problem: 'unknown field',
    hint: 'Did you mean "extraPortMappings"?',
  },
  {
    title: 'a kind node typo in a patch',
    lines: [
      ...kind,
      'kubeadmConfigPatches:',
      '  - |',
      '    kind: InitConfiguration',
      '    nodeRegistration:',
      '      kubeletExtraArg: {}',
    ],
    at: '7:7 kubeadmConfigPatches[0]',
    problem: 'has no field "kubeletExtraArg"',
    hint: 'Did you mean "kubeletExtraArgs"?',
  },
  // stdin
  {
    title: 'a problem read from stdin',
    source: '<stdin>',
    lines: [...kur, 'name: X'],
    at: '3:7 name',
    problem: 'is not a valid cluster name',
    hint: 'DNS-1123',
  },
  {
    title: 'a relative host path from stdin (the working directory)',
    source: '<stdin>',
    lines: mount('hostPath: ./x', 'containerPath: /d'),
    at: '5:19 nodes[0].extraMounts[0].hostPath',
    problem: '"./x" (resolved: /cfg/x) does not exist',
    hint: 'createHostPath',
  },
  // Aliases
  {
    title: 'an alias to a wrong type',
    lines: [...kur, 'x: &p "80"', 'nodes: [{extraPortMappings: [{containerPort: *p}]}]'],
    at: '3:1 x',
    problem: 'unknown field',
    hint: 'Known fields',
  },
];

function fail(c: Case, text: string): { error: KurError; ms: number } {
  const started = performance.now();
  try {
    loadClusterConfig({ text, source: c.source ?? 'c.yaml', hostPaths });
  } catch (error) {
    if (isKurError(error, 'config')) return { error, ms: performance.now() - started };
    throw error;
  }
  throw new Error(`${c.title}: expected a config error, got none`);
}

describe('config error corpus (each fails as a config error, in under a second)', () => {
  before(() => {
    // Warm the parser and the field lists up, so the first row is not timed with the JIT.
    for (const c of cases.slice(0, 5)) fail(c, c.lines.join('\n'));
  });

  it('holds at least 100 cases', () => {
    expect(cases.length).to.be.at.least(100);
  });

  for (const c of cases) {
    it(c.title, () => {
      const source = c.source ?? 'c.yaml';
      const { error, ms } = fail(c, c.lines.join('\n'));
      const [pos, field] = c.at.split(' ') as [string, string];
      expect(error.message, error.message).to.satisfy((m: string) =>
        m.startsWith(`${source}:${pos}: ${field}: `),
      );
      expect(error.message).to.include(c.problem);
      expect(error.hint ?? '').to.include(c.hint);
      expect(error.exitCode).to.equal(3);
      expect(ms, 'milliseconds').to.be.below(1000);
    });
  }
});

/** Valid inputs at the limits, and inputs past them. */
describe('config limits (linear, bounded, refused at once)', () => {
  const timed = (run: () => void): number => {
    const started = performance.now();
    run();
    return performance.now() - started;
  };
  const error = (text: string): KurError => {
    try {
      loadClusterConfig({ text, source: 'big.yaml', hostPaths });
    } catch (e) {
      if (isKurError(e, 'config')) return e;
      throw e;
    }
    throw new Error('expected a config error');
  };

  it(`refuses a file over ${maxConfigBytes} bytes before parsing it`, () => {
    const text = `${kur.join('\n')}\n#${'x'.repeat(maxConfigBytes)}\n`;
    let e: KurError | undefined;
    expect(timed(() => (e = error(text)))).to.be.below(1000);
    expect(e!.message).to.match(/^big\.yaml:1:1: \(document\): the file has \d+ bytes, more than the 262144/);
    expect(e!.hint).to.match(/keep large data/);
  });

  it('finds a duplicate among ~13,000 generated keys just under the size limit, in under a second', () => {
    const gates: string[] = [];
    let size = 0;
    for (let i = 0; size < maxConfigBytes - 1000; i++) {
      const line = `  Gate${i}: true`;
      gates.push(line);
      size += line.length + 1;
    }
    const text = [...kur, 'featureGates:', ...gates, '  Gate7: false', ''].join('\n');
    let e: KurError | undefined;
    expect(timed(() => (e = error(text)))).to.be.below(1000);
    expect(e!.message).to.match(
      new RegExp(`^big\\.yaml:${gates.length + 4}:3: \\(document\\): .*"Gate7" is repeated`),
    );
  });

  it('caps the problems it lists: the first 20, then how many more', () => {
    const labels = Array.from({ length: 5000 }, (_, i) => `      "bad key ${i}": x`);
    const text = [...kur, 'nodes:', '  - labels:', ...labels, ''].join('\n');
    let e: KurError | undefined;
    expect(timed(() => (e = error(text)))).to.be.below(1000);
    expect(e!.message).to.match(/\(and 4999 more problems, listed below\)$/);
    const lines = e!.detail!.split('\n');
    expect(lines.filter((l) => l.startsWith('big.yaml:'))).to.have.length(maxListedProblems);
    expect(lines[lines.length - 1]).to.equal('... and 4980 more problems');
  });

  it('refuses flow nesting deeper than 50 levels without a stack overflow', () => {
    const deep = `${kur.join('\n')}\nnodes: ${'['.repeat(100_000)}${']'.repeat(100_000)}\n`;
    let e: KurError | undefined;
    expect(timed(() => (e = error(deep)))).to.be.below(1000);
    expect(e!.message).to.equal('big.yaml:3:58: (document): the YAML nests deeper than 50 levels');
    expect(e!.hint).to.match(/flatten the structure/);
  });

  it('refuses block nesting deeper than 50 levels', () => {
    const lines = Array.from({ length: 60 }, (_, i) => `${' '.repeat(i)}k${i}:`);
    const e = error([...kur, 'networking:', ...lines.map((l) => ` ${l}`), ''].join('\n'));
    expect(e.message).to.match(/^big\.yaml:\d+:\d+: \(document\): the YAML nests deeper than 50 levels$/);
  });

  it('refuses deep nesting inside a patch', () => {
    const patch = `${'['.repeat(60)}${']'.repeat(60)}`;
    const e = error(
      [...kur, 'kubeadmConfigPatchesJSON6902:', `  - {kind: InitConfiguration, patch: "${patch}"}`].join(
        '\n',
      ),
    );
    expect(e.message).to.match(
      /kubeadmConfigPatchesJSON6902\[0\]\.patch: the YAML nests deeper than 50 levels/,
    );
  });

  it('refuses more than 100 aliases (no expansion blow-up)', () => {
    const aliases = Array.from({ length: 101 }, (_, i) => `  L${i}: *v`);
    const e = error([...kur, 'x: &v a', 'runtimeConfig:', ...aliases, ''].join('\n'));
    expect(e.message).to.match(/more than 100 aliases/);
  });
});
