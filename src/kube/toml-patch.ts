import { parse as parseToml, stringify as stringifyToml, TomlError } from 'smol-toml';
import { applyJsonPatch, parseJsonPatch } from './json-patch.js';
import type { JsonObject } from './json.js';
import { isJsonObject, PatchError } from './json.js';
import { mergePatch } from './merge-patch.js';

/** The containerd config format kur generates (containerd 2.x). */
export const containerdConfigVersion = 3;

/** Parses a TOML snippet; syntax errors carry their line and column inside the snippet. */
export function parseTomlPatch(text: string): JsonObject {
  try {
    return parseToml(text) as unknown as JsonObject;
  } catch (error) {
    if (error instanceof TomlError) {
      const first = error.message.split('\n')[0] ?? error.message;
      throw new PatchError(`invalid TOML: ${first.replace(/^Invalid TOML document: /, '')}`, {
        line: error.line,
        col: error.column,
      });
    }
    throw error;
  }
}

/** A patch's `version`, if it sets one; patches for another version are skipped, as in kind. */
export function tomlPatchVersion(patch: JsonObject): number | undefined {
  return typeof patch.version === 'number' ? patch.version : undefined;
}

/**
 * Merges TOML patches (tables merge key by key, values and arrays replace) and then RFC 6902
 * patches into a containerd config. Patches written for another config version are skipped.
 */
export function applyContainerdPatches(
  config: JsonObject,
  patches: readonly string[],
  json6902: readonly string[],
): JsonObject {
  let out = config;
  for (const text of patches) {
    const patch = parseTomlPatch(text);
    const version = tomlPatchVersion(patch);
    if (version !== undefined && version !== containerdConfigVersion) continue;
    out = mergePatch(out, patch) as JsonObject;
  }
  for (const text of json6902) {
    const patched = applyJsonPatch(out, parseJsonPatch(text));
    if (!isJsonObject(patched))
      throw new PatchError('the JSON patch left the containerd config without a table');
    out = patched;
  }
  return out;
}

export function toToml(config: JsonObject): string {
  return stringifyToml(config);
}
