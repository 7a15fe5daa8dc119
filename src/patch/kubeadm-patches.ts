import type { JsonPatchOperation } from './json-patch.js';
import { applyJsonPatch, parseJsonPatch } from './json-patch.js';
import type { JsonObject } from './json.js';
import { isJsonObject, PatchError } from './json.js';
import { kubeadmMergePatch } from './merge-patch.js';
import { parseYamlJson } from './yaml-text.js';

/** The documents kur writes into kubeadm's config file, and their API versions. */
export const kubeadmDocumentVersions = {
  InitConfiguration: 'kubeadm.k8s.io/v1beta4',
  ClusterConfiguration: 'kubeadm.k8s.io/v1beta4',
  JoinConfiguration: 'kubeadm.k8s.io/v1beta4',
  KubeletConfiguration: 'kubelet.config.k8s.io/v1beta1',
  KubeProxyConfiguration: 'kubeproxy.config.k8s.io/v1alpha1',
} as const;
export type KubeadmDocumentKind = keyof typeof kubeadmDocumentVersions;
export const kubeadmDocumentKinds = Object.keys(kubeadmDocumentVersions) as KubeadmDocumentKind[];

export function isKubeadmDocumentKind(kind: string): kind is KubeadmDocumentKind {
  return Object.hasOwn(kubeadmDocumentVersions, kind);
}

/** An RFC 6902 patch for the document of a kind (and group and version, when not empty). */
export interface Json6902Patch {
  group: string;
  version: string;
  kind: string;
  patch: string;
}

/** A parsed `kubeadmConfigPatches` entry: the target's kind (and apiVersion) and the body to merge. */
export interface KubeadmMergePatch {
  kind: string;
  apiVersion: string | undefined;
  body: JsonObject;
}

/** Parses a merge patch document; it must be a mapping naming the `kind` it patches. */
export function parseKubeadmMergePatch(text: string): KubeadmMergePatch {
  const value = parseYamlJson(text);
  if (!isJsonObject(value)) throw new PatchError('a kubeadm config patch must be a YAML mapping');
  const { kind, apiVersion, ...body } = value;
  if (typeof kind !== 'string') {
    throw new PatchError(
      `the patch needs a kind naming its target (one of ${kubeadmDocumentKinds.join(', ')})`,
    );
  }
  if (apiVersion !== undefined && typeof apiVersion !== 'string')
    throw new PatchError('apiVersion must be a string');
  return { kind, apiVersion, body };
}

/** The apiVersion a JSON 6902 patch selects; parts left empty match anything. */
function matches6902(patch: Json6902Patch, doc: JsonObject): boolean {
  if (doc.kind !== patch.kind) return false;
  const apiVersion = typeof doc.apiVersion === 'string' ? doc.apiVersion : '';
  const slash = apiVersion.lastIndexOf('/');
  const group = slash < 0 ? '' : apiVersion.slice(0, slash);
  const version = apiVersion.slice(slash + 1);
  return (patch.group === '' || patch.group === group) && (patch.version === '' || patch.version === version);
}

export interface KubeadmPatchSet {
  merge: readonly string[];
  json6902: readonly Json6902Patch[];
}

/** Which patch of a set failed, and why. */
export interface KubeadmPatchFailure {
  list: 'kubeadmConfigPatches' | 'kubeadmConfigPatchesJSON6902';
  index: number;
  error: PatchError;
}

/**
 * Applies one level of patches (cluster-level, then call again for node-level), merge patches
 * first and JSON patches second, as kind does. A patch whose kind (or apiVersion) matches no
 * document is skipped: a node-level `InitConfiguration` patch is a no-op on a worker.
 * A patch that fails throws a PatchError naming it, or, with `onFailure`, is reported there and
 * left out, so a check can list every failing patch at once.
 */
export function applyKubeadmPatches(
  documents: readonly JsonObject[],
  patches: KubeadmPatchSet,
  onFailure: (failure: KubeadmPatchFailure) => void = throwFailure,
): JsonObject[] {
  let docs = [...documents];
  const attempt = (list: KubeadmPatchFailure['list'], index: number, step: () => JsonObject[]): void => {
    try {
      docs = step();
    } catch (error) {
      if (!(error instanceof PatchError)) throw error;
      onFailure({ list, index, error });
    }
  };
  patches.merge.forEach((text, i) =>
    attempt('kubeadmConfigPatches', i, () => {
      const patch = parseKubeadmMergePatch(text);
      return docs.map((doc) =>
        doc.kind === patch.kind && (patch.apiVersion === undefined || patch.apiVersion === doc.apiVersion)
          ? (kubeadmMergePatch(doc, patch.body) as JsonObject)
          : doc,
      );
    }),
  );
  patches.json6902.forEach((patch, i) =>
    attempt('kubeadmConfigPatchesJSON6902', i, () => {
      const operations: JsonPatchOperation[] = parseJsonPatch(patch.patch);
      return docs.map((doc) => {
        if (!matches6902(patch, doc)) return doc;
        const patched = applyJsonPatch(doc, operations);
        if (!isJsonObject(patched)) throw new PatchError(`the JSON patch for ${patch.kind} left no document`);
        return patched;
      });
    }),
  );
  return docs;
}

function throwFailure({ list, index, error }: KubeadmPatchFailure): never {
  throw new PatchError(`${list}[${index}]: ${error.message}`, error.position, error.operation);
}
