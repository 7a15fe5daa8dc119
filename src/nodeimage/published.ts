import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { referenceHost } from '../engine/api-mapping.js';
import { imagesDir } from './components.js';

/**
 * Where a missing default node image can come from before kur builds it: a registry named by
 * `KUR_NODE_IMAGE_REGISTRY`, pulled by the manifest digest kur pins for its recipe (in
 * images/published.json), so the engine itself checks every byte against it.
 */
export const nodeImageRegistryEnv = 'KUR_NODE_IMAGE_REGISTRY';

/** Published manifest digests by node image tag. */
export type PublishedDigests = Readonly<Record<string, string>>;

export function loadPublishedDigests(dir = imagesDir): PublishedDigests {
  const parsed = JSON.parse(readFileSync(join(dir, 'published.json'), 'utf8')) as { node?: PublishedDigests };
  return parsed.node ?? {};
}

/** The registry reference to pull for `image`, or why there is none (said before kur builds instead). */
export function publishedSource(
  image: string,
  registry: string | undefined,
  digests: PublishedDigests,
): { reference: string } | { reason: string } {
  if (registry === undefined || registry.trim() === '') {
    return { reason: `${nodeImageRegistryEnv} is not set` };
  }
  const tag = image.slice(image.lastIndexOf(':') + 1);
  const digest = digests[tag];
  if (digest === undefined) {
    return {
      reason: `no published digest for ${image} in kur's images/published.json (this recipe was not published)`,
    };
  }
  return { reference: `${registry.replace(/\/+$/, '')}/node@${digest}` };
}

/**
 * Whether a reference names a registry to pull from (`host.domain/…`, `host:port/…`,
 * `localhost/…`). `kur.local/…` names images kur builds and never pulls.
 */
export function isRegistryReference(reference: string): boolean {
  const host = referenceHost(reference);
  if (host === '' || host === 'kur.local') return false;
  return host === 'localhost' || host.includes('.') || host.includes(':');
}
