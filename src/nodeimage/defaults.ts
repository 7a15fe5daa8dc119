import { readFileSync } from 'node:fs';

/** The pinned versions every node image build starts from (images/components.json). */
interface ComponentsFile {
  kubernetes: string;
}

let cached: ComponentsFile | undefined;

export function componentsFile(): ComponentsFile {
  cached ??= JSON.parse(
    readFileSync(new URL('../../images/components.json', import.meta.url), 'utf8'),
  ) as ComponentsFile;
  return cached;
}

/** Node images are named `kur.local/node:<kubernetes version>`: fully qualified, so Docker and Podman agree. */
export function nodeImageName(kubernetesVersion: string): string {
  return `kur.local/node:${kubernetesVersion}`;
}

export function defaultNodeImage(): string {
  return nodeImageName(componentsFile().kubernetes);
}
