import type { JsonObject } from '../../patch/json.js';
import { toYamlStream } from '../../patch/yaml-text.js';
import { apiServerEnv, clusterRoleFor, eventRules } from './common.js';

export const localPathNamespace = 'local-path-storage';
/** The default StorageClass's name (kind's name for it too, so manifests written for kind work). */
export const defaultStorageClassName = 'standard';
/** The provisioner name PersistentVolumes and the StorageClass carry (upstream's default). */
export const localPathProvisionerName = 'rancher.io/local-path';
/** Where volumes live in each node: under /var, the node's volume, so they survive restarts. */
export const localPathRoot = '/var/local-path-provisioner';
/** The helper binary in kur's helper image (images/components.json). */
export const localPathHelperPath = '/usr/local/bin/local-path-helper';

const provisionerPath = '/usr/local/bin/local-path-provisioner';
const account = 'local-path-provisioner';
const configMap = 'local-path-config';
const configDir = '/etc/local-path/';
const labels = { 'app.kubernetes.io/name': 'local-path-provisioner', 'app.kubernetes.io/managed-by': 'kur' };

export interface LocalPathInput {
  /** The provisioner image preloaded in the node image. */
  provisionerImage: string;
  /** The helper image (local-path-helper) preloaded in the node image. */
  helperImage: string;
  /** `host:port` of the API server as nodes reach it (see apiServerEnv). */
  apiServerEndpoint?: string;
}

/**
 * Dynamic host-path volumes: local-path-provisioner watches claims of the `standard` class and,
 * once the scheduler has picked a node for the first pod (WaitForFirstConsumer), runs a helper
 * pod there that makes the directory; the PersistentVolume is a hostPath pinned to that node. A
 * deleted claim's volume is removed the same way (reclaim policy Delete).
 *
 * The provisioner's config names kur's helper binary as setup and teardown command, so no shell
 * scripts and no shell are needed: the helper gets `-p <dir> -s <bytes> -m <mode> -a create|delete`.
 */
export function localPathManifest(input: LocalPathInput): string {
  const config = {
    nodePathMap: [{ node: 'DEFAULT_PATH_FOR_NON_LISTED_NODES', paths: [localPathRoot] }],
    setupCommand: localPathHelperPath,
    teardownCommand: localPathHelperPath,
  };
  // The provisioner fills in name, namespace, node, volumes, command and args.
  const helperPod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'helper-pod' },
    spec: {
      priorityClassName: 'system-node-critical',
      containers: [{ name: 'helper-pod', image: input.helperImage, imagePullPolicy: 'Never' }],
    },
  };
  const documents: JsonObject[] = [
    {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: {
        name: localPathNamespace,
        // Helper pods mount hostPath volumes, which the baseline and restricted levels refuse.
        labels: { ...labels, 'pod-security.kubernetes.io/enforce': 'privileged' },
      },
    },
    {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name: account, namespace: localPathNamespace, labels },
    },
    ...clusterRoleFor(
      'kur:local-path-provisioner',
      { name: account, namespace: localPathNamespace },
      [
        { apiGroups: [''], resources: ['nodes'], verbs: ['get', 'list', 'watch'] },
        { apiGroups: [''], resources: ['persistentvolumeclaims'], verbs: ['get', 'list', 'watch', 'update'] },
        {
          apiGroups: [''],
          resources: ['persistentvolumes'],
          verbs: ['get', 'list', 'watch', 'create', 'delete', 'patch', 'update'],
        },
        { apiGroups: ['storage.k8s.io'], resources: ['storageclasses'], verbs: ['get', 'list', 'watch'] },
        ...eventRules,
      ],
      labels,
    ),
    // Helper pods, their logs (copied into the provisioner's log) and its own config: namespace only.
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name: 'local-path-provisioner', namespace: localPathNamespace, labels },
      rules: [
        { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch', 'create', 'delete'] },
        { apiGroups: [''], resources: ['pods/log'], verbs: ['get'] },
        { apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list', 'watch'] },
      ],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'local-path-provisioner', namespace: localPathNamespace, labels },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'local-path-provisioner' },
      subjects: [{ kind: 'ServiceAccount', name: account, namespace: localPathNamespace }],
    },
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: configMap, namespace: localPathNamespace, labels },
      data: {
        'config.json': `${JSON.stringify(config, null, 2)}\n`,
        'helperPod.yaml': `${JSON.stringify(helperPod, null, 2)}\n`,
      },
    },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'local-path-provisioner', namespace: localPathNamespace, labels },
      spec: {
        replicas: 1,
        selector: { matchLabels: { 'app.kubernetes.io/name': 'local-path-provisioner' } },
        template: {
          metadata: { labels },
          spec: {
            serviceAccountName: account,
            priorityClassName: 'system-cluster-critical',
            // A cluster whose only nodes are tainted control planes still gets volumes.
            tolerations: [
              { key: 'node-role.kubernetes.io/control-plane', operator: 'Exists', effect: 'NoSchedule' },
            ],
            containers: [
              {
                name: 'local-path-provisioner',
                image: input.provisionerImage,
                imagePullPolicy: 'Never',
                command: [
                  provisionerPath,
                  'start',
                  `--config=${configDir}config.json`,
                  `--provisioner-name=${localPathProvisionerName}`,
                  `--configmap-name=${configMap}`,
                  `--service-account-name=${account}`,
                  `--helper-image=${input.helperImage}`,
                ],
                env: [
                  ...apiServerEnv(input.apiServerEndpoint),
                  { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
                  // Where the provisioner re-reads helperPod.yaml from when the ConfigMap changes.
                  { name: 'CONFIG_MOUNT_PATH', value: configDir },
                ],
                resources: { requests: { cpu: '10m', memory: '16Mi' } },
                volumeMounts: [{ name: 'config', mountPath: configDir, readOnly: true }],
              },
            ],
            volumes: [{ name: 'config', configMap: { name: configMap } }],
          },
        },
      },
    },
    {
      apiVersion: 'storage.k8s.io/v1',
      kind: 'StorageClass',
      metadata: {
        name: defaultStorageClassName,
        labels,
        annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' },
      },
      provisioner: localPathProvisionerName,
      // Bind when a pod needs the claim, on the node the scheduler picked for it: a volume made
      // first on an arbitrary node would strand pods on multi-node clusters.
      volumeBindingMode: 'WaitForFirstConsumer',
      reclaimPolicy: 'Delete',
    },
  ];
  return `# Generated by kur: local-path-provisioner, default StorageClass "${defaultStorageClassName}" (${localPathRoot} on each node).\n${toYamlStream(documents)}`;
}
