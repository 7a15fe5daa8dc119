import { loadComponents } from './components.js';

/** Node images are named `kur.local/node:<kubernetes version>`: fully qualified, so Docker and Podman agree. */
export function nodeImageName(kubernetesVersion: string): string {
  return `kur.local/node:${kubernetesVersion}`;
}

/** The image `kur create cluster` uses (and builds when missing): the pinned Kubernetes version's. */
export function defaultNodeImage(): string {
  return nodeImageName(loadComponents().kubernetes);
}
