import { existsSync, readFileSync } from 'node:fs';
import { parse } from 'yaml';

interface KubeconfigFile {
  clusters?: { name: string; cluster?: { server?: string } }[] | null;
  users?: { name: string }[] | null;
  contexts?: { name: string; context?: { cluster?: string; user?: string } }[] | null;
  'current-context'?: string;
}

/** The kubeconfig file as YAML data; an absent file reads as empty. */
export function readKubeconfig(path: string): KubeconfigFile {
  if (!existsSync(path)) return {};
  return (parse(readFileSync(path, 'utf8')) as KubeconfigFile | null) ?? {};
}

/** Every entry (cluster, user, context) of the file named `name`, described. */
export function kubeconfigEntries(path: string, name: string): string[] {
  const config = readKubeconfig(path);
  return [
    ...(config.clusters ?? []).filter((e) => e.name === name).map(() => `cluster ${name}`),
    ...(config.users ?? []).filter((e) => e.name === name).map(() => `user ${name}`),
    ...(config.contexts ?? []).filter((e) => e.name === name).map(() => `context ${name}`),
  ];
}
