import { KurError } from '../../util/errors.js';
import type { JsonObject } from '../../patch/json.js';

/**
 * client-go's in-cluster config reads the API server from these variables, and values in the
 * pod spec win over the ones the kubelet injects: an add-on that starts before kube-proxy has
 * written the Service rules then still reaches the API server (the same reason as Flannel's).
 */
export function apiServerEnv(endpoint: string | undefined): JsonObject[] {
  if (endpoint === undefined) return [];
  const colon = endpoint.lastIndexOf(':');
  if (colon <= 0) throw new KurError('internal', `add-ons: API server endpoint ${endpoint} is not host:port`);
  return [
    { name: 'KUBERNETES_SERVICE_HOST', value: endpoint.slice(0, colon) },
    { name: 'KUBERNETES_SERVICE_PORT', value: endpoint.slice(colon + 1) },
  ];
}

/** A ClusterRole, its binding to one service account, and nothing else. */
export function clusterRoleFor(
  name: string,
  account: { name: string; namespace: string },
  rules: JsonObject[],
  labels: Record<string, string>,
): JsonObject[] {
  return [
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name, labels }, rules },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name, labels },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name },
      subjects: [{ kind: 'ServiceAccount', name: account.name, namespace: account.namespace }],
    },
  ];
}

/** Events the controllers record (core and events.k8s.io, whichever client-go's recorder uses). */
export const eventRules: JsonObject[] = [
  { apiGroups: ['', 'events.k8s.io'], resources: ['events'], verbs: ['create', 'patch', 'update'] },
];
