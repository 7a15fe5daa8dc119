import type { JsonObject, JsonValue } from './json.js';
import { cloneJson, isJsonObject } from './json.js';

/**
 * RFC 7386 merge patch: objects merge key by key, `null` deletes a key, anything else
 * (lists included) replaces the target. Returns a new value.
 */
export function mergePatch(target: JsonValue, patch: JsonValue): JsonValue {
  return merge(target, patch, () => undefined);
}

/**
 * A merge patch that knows kubeadm's list-shaped fields, so a patch adds to the generated
 * config instead of wiping it (kind behaves the same way):
 * - `extraArgs` / `kubeletExtraArgs`: lists of `{name, value}` merged by name; a `null` value
 *   deletes the argument; the older map form (`extraArgs: {v: "4"}`) is accepted in patches.
 * - `extraVolumes` / `extraEnvs`: merged by `name`.
 * - `certSANs`: union, order kept.
 */
export function kubeadmMergePatch(target: JsonValue, patch: JsonValue): JsonValue {
  return merge(target, patch, kubeadmListMerge);
}

type ListMerge = (key: string, target: JsonValue | undefined, patch: JsonValue) => JsonValue | undefined;

function merge(target: JsonValue, patch: JsonValue, special: ListMerge): JsonValue {
  if (!isJsonObject(patch)) return cloneJson(patch);
  const out: JsonObject = isJsonObject(target) ? cloneJson(target) : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) {
      delete out[key];
      continue;
    }
    const merged = special(key, out[key], value);
    if (merged !== undefined) out[key] = merged;
    else out[key] = merge(out[key] ?? null, value, special);
  }
  return out;
}

const argLists = new Set(['extraArgs', 'kubeletExtraArgs']);
const namedLists = new Set(['extraVolumes', 'extraEnvs']);

function kubeadmListMerge(
  key: string,
  target: JsonValue | undefined,
  patch: JsonValue,
): JsonValue | undefined {
  if (argLists.has(key)) {
    const patchItems = isJsonObject(patch)
      ? Object.entries(patch).map(([name, value]): JsonValue => ({ name, value }))
      : patch;
    if (!Array.isArray(patchItems)) return undefined;
    return mergeByName(asList(target), patchItems, (item) => isJsonObject(item) && item.value === null);
  }
  if (namedLists.has(key) && Array.isArray(patch)) {
    return mergeByName(asList(target), patch, () => false);
  }
  if (key === 'certSANs' && Array.isArray(patch)) {
    const out = asList(target);
    for (const san of patch) if (!out.includes(san)) out.push(san);
    return out;
  }
  return undefined;
}

function asList(value: JsonValue | undefined): JsonValue[] {
  return Array.isArray(value) ? cloneJson(value) : [];
}

function mergeByName(
  target: JsonValue[],
  patch: readonly JsonValue[],
  deletes: (item: JsonValue) => boolean,
): JsonValue[] {
  const out = target;
  for (const item of patch) {
    const name = isJsonObject(item) ? item.name : undefined;
    const index = out.findIndex((t) => isJsonObject(t) && name !== undefined && t.name === name);
    if (deletes(item)) {
      if (index >= 0) out.splice(index, 1);
    } else if (index >= 0) {
      out[index] = mergePatch(out[index]!, item);
    } else {
      out.push(cloneJson(item));
    }
  }
  return out;
}
