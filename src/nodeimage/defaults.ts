import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { imagesDir, loadComponents } from './components.js';

/** Node images are named `kur.local/node:<kubernetes version>`: fully qualified, so Docker and Podman agree. */
export function nodeImageName(kubernetesVersion: string): string {
  return `kur.local/node:${kubernetesVersion}`;
}

let defaultName: string | undefined;

/**
 * The image `kur create cluster` uses (and builds when missing): the pinned Kubernetes version's,
 * tagged with a digest of the recipe under images/. A kur whose recipe changed (another
 * entrypoint, a new preloaded image) therefore builds its own image instead of silently running
 * nodes made from an older recipe that happens to carry the same Kubernetes version.
 */
export function defaultNodeImage(): string {
  defaultName ??= `${nodeImageName(loadComponents().kubernetes)}-${recipeDigest(imagesDir)}`;
  return defaultName;
}

/** sha256 (12 hex digits) of every recipe file under `dir`: names and contents; docs and tests left out. */
export function recipeDigest(dir: string): string {
  const hash = createHash('sha256');
  for (const file of recipeFiles(dir)) {
    hash.update(`${relative(dir, file)}\0`);
    hash.update(readFileSync(file));
    hash.update('\0');
  }
  return hash.digest('hex').slice(0, 12);
}

/**
 * Under images/ but not part of any node image: the generator of the config field lists, the
 * digests of published images (written after a recipe is built, so it cannot be part of it), and
 * the local registry's pin and module (its image is built apart, by `kur create registry`).
 */
const notRecipe = new Set(['go/config-fields', 'published.json', 'go/registry', 'registry.json']);

function recipeFiles(dir: string, root = dir): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (notRecipe.has(relative(root, path))) continue;
    if (entry.isDirectory()) found.push(...recipeFiles(path, root));
    else if (entry.isFile() && !/(\.md|_test\.go)$/.test(entry.name)) found.push(path);
  }
  return found.sort();
}
