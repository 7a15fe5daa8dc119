import { KurError } from '../util/errors.js';
import type { JsonObject } from '../patch/json.js';
import { toYamlStream } from '../patch/yaml-text.js';

export const flannelNamespace = 'kube-flannel';
/** The Linux VXLAN port Flannel uses; node containers must reach each other on it (UDP). */
export const flannelVxlanPort = 8472;

export interface FlannelInput {
  /** The cluster's pod network; Flannel gives each node a /24 of it. */
  podSubnet: string;
  /** The flannel image preloaded in the node image (e.g. ghcr.io/flannel-io/flannel:<version>). */
  image: string;
  /** flanneld inside the image. Default /opt/bin/flanneld, where upstream images keep it. */
  flanneldPath?: string;
  /**
   * `host:port` of the API server as nodes reach it (the plan's controlPlaneEndpoint). flanneld
   * then talks to it directly instead of through the kubernetes Service, whose address works
   * only once kube-proxy has written its rules.
   */
  apiServerEndpoint?: string;
  /**
   * The CNI config is already in every node at {@link flannelCniConfigPath} (written with the
   * node's files, see flannelCniConfig): the DaemonSet then has no install-cni init container,
   * one container start fewer between the pod's scheduling and flanneld.
   */
  cniConfigInstalled?: boolean;
}

/** Where the flannel CNI config goes in every node. */
export const flannelCniConfigPath = '/etc/cni/net.d/10-flannel.conflist';

/**
 * Where flanneld's lease (subnet.env) lives in the node: under /var, the node's volume, not in
 * /run (a tmpfs). After a node restarts, the lease of its last run is then already there: it is
 * still right (the subnet is the Node's podCIDR, which never changes), so the CNI plugin answers
 * STATUS "ready" at once and the kubelet starts the pods bound to the node (CoreDNS among them)
 * right away. With the lease in /run the kubelet skipped them until flanneld was back, then
 * waited out its 10 s back-off (measured: CoreDNS started 6-7 s after flanneld).
 */
export const flannelLeaseDir = '/var/lib/kur/flannel';

/** flannel's `install-conf <src> <dest>` tool in kur's flannel image (images/components.json). */
const installConfPath = '/opt/bin/install-conf';
const labels = { app: 'flannel', 'k8s-app': 'flannel', tier: 'node' };
const healthzPort = 8081;

/**
 * Flannel with the VXLAN backend, from the pod subnet. kur's flannel image holds flanneld,
 * flannel's install-conf tool and Debian's iptables, nftables and iproute2, but no shell and no
 * coreutils. flanneld neither masquerades nor writes FORWARD rules: with FLANNEL_IPMASQ=false in
 * subnet.env the flannel CNI plugin turns on the bridge plugin's ipMasq, which masquerades pod
 * egress from the node. The flannel, bridge, host-local, portmap and loopback CNI plugins come
 * from the node image's /opt/cni/bin.
 *
 * VXLAN checksum offload: between containers on one bridge, flannel.1's offloaded UDP checksums
 * arrive wrong and the packets are dropped. The flannel image has no ethtool, so the node (kur's
 * configure step) turns it off once flannel.1 exists: `ethtool -K flannel.1 tx-checksum-ip-generic off`.
 */
export function flannelManifest(input: FlannelInput): string {
  const cniConf = flannelCniConf();
  const installed = input.cniConfigInstalled === true;
  const netConf = {
    Network: input.podSubnet,
    // flanneld adds no rules (see above); false is flannel's own default.
    EnableNFTables: false,
    Backend: { Type: 'vxlan', Port: flannelVxlanPort },
  };
  return manifest(input, cniConf, netConf, installed);
}

/**
 * The flannel CNI config list, the same on every node and known before the cluster exists. A node
 * holding it before flanneld runs is no different from one without it: kur's flannel plugin
 * answers CNI STATUS "not ready" until flanneld has leased the node's subnet.
 */
export function flannelCniConfig(): string {
  return `${JSON.stringify(flannelCniConf(), null, 2)}\n`;
}

function flannelCniConf(): JsonObject {
  return {
    name: 'cbr0',
    // 1.1.0: containerd asks the plugins for STATUS, and kur's flannel plugin answers "not ready"
    // until flanneld has leased a subnet, so the node turns Ready only when pods can get addresses
    // (no CoreDNS sandbox failures and their back-off right after the CNI config lands).
    cniVersion: '1.1.0',
    plugins: [
      // hairpinMode: a pod reaching a service that picks the pod itself must get the packet back.
      {
        type: 'flannel',
        subnetFile: `${flannelLeaseDir}/subnet.env`,
        delegate: { hairpinMode: true, isDefaultGateway: true },
      },
      { type: 'portmap', capabilities: { portMappings: true } },
    ],
  };
}

function manifest(input: FlannelInput, cniConf: JsonObject, netConf: JsonObject, installed: boolean): string {
  const documents: JsonObject[] = [
    {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: {
        name: flannelNamespace,
        labels: { 'k8s-app': 'flannel', 'pod-security.kubernetes.io/enforce': 'privileged' },
      },
    },
    {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name: 'flannel', namespace: flannelNamespace, labels: { 'k8s-app': 'flannel' } },
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: 'flannel', labels: { 'k8s-app': 'flannel' } },
      rules: [
        { apiGroups: [''], resources: ['pods'], verbs: ['get'] },
        { apiGroups: [''], resources: ['nodes'], verbs: ['get', 'list', 'watch'] },
        { apiGroups: [''], resources: ['nodes/status'], verbs: ['patch'] },
      ],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: 'flannel', labels: { 'k8s-app': 'flannel' } },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'flannel' },
      subjects: [{ kind: 'ServiceAccount', name: 'flannel', namespace: flannelNamespace }],
    },
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'kube-flannel-cfg', namespace: flannelNamespace, labels },
      data: {
        'cni-conf.json': `${JSON.stringify(cniConf, null, 2)}\n`,
        'net-conf.json': `${JSON.stringify(netConf, null, 2)}\n`,
      },
    },
    {
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name: 'kube-flannel-ds', namespace: flannelNamespace, labels },
      spec: {
        selector: { matchLabels: { app: 'flannel' } },
        template: {
          metadata: { labels },
          spec: {
            hostNetwork: true,
            priorityClassName: 'system-node-critical',
            serviceAccountName: 'flannel',
            // Every node needs pod networking, whatever its taints.
            tolerations: [{ operator: 'Exists' }],
            initContainers: installed
              ? []
              : [
                  {
                    name: 'install-cni',
                    image: input.image,
                    imagePullPolicy: 'Never',
                    // The image has no cp: flannel's own installer copies atomically (temp file, rename),
                    // so the container runtime never reads a half-written conflist.
                    command: [installConfPath, '/etc/kube-flannel/cni-conf.json', flannelCniConfigPath],
                    volumeMounts: [
                      { name: 'cni', mountPath: '/etc/cni/net.d' },
                      { name: 'flannel-cfg', mountPath: '/etc/kube-flannel/' },
                    ],
                  },
                ],
            containers: [
              {
                name: 'kube-flannel',
                image: input.image,
                imagePullPolicy: 'Never',
                command: [input.flanneldPath ?? '/opt/bin/flanneld'],
                args: [
                  '--kube-subnet-mgr',
                  '--ip-masq=false',
                  '--iptables-forward-rules=false',
                  `--healthz-port=${healthzPort}`,
                ],
                ports: [{ name: 'healthz', containerPort: healthzPort, protocol: 'TCP' }],
                // /healthz, not /readyz: flanneld serves /readyz only from v0.28.9 on.
                livenessProbe: {
                  httpGet: { path: '/healthz', port: 'healthz' },
                  initialDelaySeconds: 10,
                  periodSeconds: 30,
                },
                resources: { requests: { cpu: '100m', memory: '50Mi' } },
                securityContext: { privileged: false, capabilities: { add: ['NET_ADMIN', 'NET_RAW'] } },
                env: [
                  ...apiServerEnv(input.apiServerEndpoint),
                  { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
                  { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
                  { name: 'EVENT_QUEUE_DEPTH', value: '5000' },
                ],
                volumeMounts: [
                  { name: 'run', mountPath: '/run/flannel' },
                  { name: 'flannel-cfg', mountPath: '/etc/kube-flannel/' },
                ],
              },
            ],
            volumes: [
              // flanneld writes /run/flannel/subnet.env in its container: the node's lease directory.
              { name: 'run', hostPath: { path: flannelLeaseDir, type: 'DirectoryOrCreate' } },
              { name: 'cni', hostPath: { path: '/etc/cni/net.d' } },
              { name: 'flannel-cfg', configMap: { name: 'kube-flannel-cfg' } },
            ],
          },
        },
      },
    },
  ];
  return `# Generated by kur: Flannel VXLAN (UDP ${flannelVxlanPort}) for pod subnet ${input.podSubnet}.\n${toYamlStream(documents)}`;
}

/**
 * client-go's in-cluster config reads the API server from these variables; values in the pod
 * spec take precedence over the ones the kubelet injects. Without them flanneld, which starts
 * together with kube-proxy, can dial the Service address before kube-proxy's rules exist and
 * reach something that is not the API server (measured on rootless Docker: flanneld restarted
 * once or twice per node with "x509: cannot validate certificate for 10.96.0.1").
 */
function apiServerEnv(endpoint: string | undefined): JsonObject[] {
  if (endpoint === undefined) return [];
  const colon = endpoint.lastIndexOf(':');
  if (colon <= 0) throw new KurError('internal', `flannel: API server endpoint ${endpoint} is not host:port`);
  return [
    { name: 'KUBERNETES_SERVICE_HOST', value: endpoint.slice(0, colon) },
    { name: 'KUBERNETES_SERVICE_PORT', value: endpoint.slice(colon + 1) },
  ];
}
