import { parseDocument, stringify } from 'yaml';
import { KurError } from '../util/errors.js';

/**
 * Pure kubeconfig edits. kur owns exactly three entries per cluster (cluster, user and context,
 * all named `kur-<name>`); it never touches anything else in the user's file.
 */
export interface KubeconfigEntry {
  /** The context name, `kur-<cluster>`, also used for the cluster and user entries. */
  name: string;
  server: string;
  certificateAuthorityData: string;
  clientCertificateData: string;
  clientKeyData: string;
}

type NamedEntry = { name: string } & Record<string, unknown>;

interface KubeconfigShape {
  apiVersion?: string;
  kind?: string;
  clusters?: NamedEntry[];
  users?: NamedEntry[];
  contexts?: NamedEntry[];
  'current-context'?: string;
  preferences?: unknown;
  [key: string]: unknown;
}

function parse(text: string | undefined, source: string): KubeconfigShape {
  if (text === undefined || text.trim() === '') return {};
  const doc = parseDocument(text);
  if (doc.errors.length > 0) {
    throw new KurError('config', `${source} is not valid YAML: ${doc.errors[0]?.message ?? 'parse error'}`, {
      hint: `Fix or move ${source}, or pass --kubeconfig to write elsewhere.`,
    });
  }
  const value: unknown = doc.toJS();
  if (value === null || value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new KurError('config', `${source} is not a kubeconfig (expected a mapping at the top)`, {
      hint: `Fix or move ${source}, or pass --kubeconfig to write elsewhere.`,
    });
  }
  return value as KubeconfigShape;
}

function upsert(list: NamedEntry[] | undefined, item: NamedEntry): NamedEntry[] {
  const rest = (list ?? []).filter((e) => e.name !== item.name);
  return [...rest, item];
}

/** Adds or replaces a cluster's entries and makes its context current. */
export function mergeKubeconfig(
  existing: string | undefined,
  entry: KubeconfigEntry,
  source = 'kubeconfig',
): string {
  const config = parse(existing, source);
  config.apiVersion ??= 'v1';
  config.kind ??= 'Config';
  config.clusters = upsert(config.clusters, {
    name: entry.name,
    cluster: { server: entry.server, 'certificate-authority-data': entry.certificateAuthorityData },
  });
  config.users = upsert(config.users, {
    name: entry.name,
    user: { 'client-certificate-data': entry.clientCertificateData, 'client-key-data': entry.clientKeyData },
  });
  config.contexts = upsert(config.contexts, {
    name: entry.name,
    context: { cluster: entry.name, user: entry.name },
  });
  config['current-context'] = entry.name;
  config.preferences ??= {};
  return stringify(config);
}

/** Removes a cluster's entries; clears current-context only when it pointed at them. */
export function removeKubeconfigEntry(
  existing: string | undefined,
  name: string,
  source = 'kubeconfig',
): string {
  const config = parse(existing, source);
  config.clusters = (config.clusters ?? []).filter((e) => e.name !== name);
  config.users = (config.users ?? []).filter((e) => e.name !== name);
  config.contexts = (config.contexts ?? []).filter((e) => e.name !== name);
  if (config['current-context'] === name) config['current-context'] = '';
  return stringify(config);
}

export function hasKubeconfigEntry(
  existing: string | undefined,
  name: string,
  source = 'kubeconfig',
): boolean {
  const config = parse(existing, source);
  return (config.contexts ?? []).some((e) => e.name === name);
}

/** The admin kubeconfig kubeadm writes, reduced to one entry with kur's names and a chosen server. */
export function entryFromAdminConf(adminConf: string, name: string, server: string): KubeconfigEntry {
  const config = parse(adminConf, 'admin.conf');
  const cluster = config.clusters?.[0]?.cluster as Record<string, string> | undefined;
  const user = config.users?.[0]?.user as Record<string, string> | undefined;
  const ca = cluster?.['certificate-authority-data'];
  const cert = user?.['client-certificate-data'];
  const key = user?.['client-key-data'];
  if (ca === undefined || cert === undefined || key === undefined) {
    throw new KurError('internal', 'the control plane admin.conf lacks embedded certificate data');
  }
  return { name, server, certificateAuthorityData: ca, clientCertificateData: cert, clientKeyData: key };
}

/** Renders a standalone kubeconfig for one cluster (for `get kubeconfig`). */
export function renderKubeconfig(entry: KubeconfigEntry): string {
  return mergeKubeconfig(undefined, entry);
}
