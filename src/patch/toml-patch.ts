import { parse as parseToml, stringify as stringifyToml, TomlError } from 'smol-toml';
import { applyJsonPatch, parseJsonPatch } from './json-patch.js';
import type { JsonObject } from './json.js';
import { isJsonObject, PatchError } from './json.js';
import { mergePatch } from './merge-patch.js';
import { yamlLimits } from './yaml-text.js';

/** The containerd config format kur generates (containerd 2.x). */
export const containerdConfigVersion = 3;

/** Parses a TOML snippet; syntax errors carry their line and column inside the snippet. */
export function parseTomlPatch(text: string): JsonObject {
  try {
    return parseToml(text, { maxDepth: yamlLimits.maxDepth }) as unknown as JsonObject;
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

/** Which containerd patch failed, and why. */
export interface ContainerdPatchFailure {
  list: 'containerdConfigPatches' | 'containerdConfigPatchesJSON6902';
  index: number;
  error: PatchError;
}

/**
 * Merges TOML patches (tables merge key by key, values and arrays replace) and then RFC 6902
 * patches into a containerd config. Patches written for another config version are skipped.
 * A failing patch throws a PatchError naming it, or, with `onFailure`, is reported and left out.
 */
export function applyContainerdPatches(
  config: JsonObject,
  patches: readonly string[],
  json6902: readonly string[],
  onFailure: (failure: ContainerdPatchFailure) => void = throwFailure,
): JsonObject {
  let out = config;
  const attempt = (list: ContainerdPatchFailure['list'], index: number, step: () => JsonObject): void => {
    try {
      out = step();
    } catch (error) {
      if (!(error instanceof PatchError)) throw error;
      onFailure({ list, index, error });
    }
  };
  patches.forEach((text, i) =>
    attempt('containerdConfigPatches', i, () => {
      const patch = parseTomlPatch(text);
      const version = tomlPatchVersion(patch);
      if (version !== undefined && version !== containerdConfigVersion) return out;
      return mergePatch(out, patch) as JsonObject;
    }),
  );
  json6902.forEach((text, i) =>
    attempt('containerdConfigPatchesJSON6902', i, () => {
      const patched = applyJsonPatch(out, parseJsonPatch(text));
      if (!isJsonObject(patched))
        throw new PatchError('the JSON patch left the containerd config without a table');
      return patched;
    }),
  );
  return out;
}

function throwFailure({ list, index, error }: ContainerdPatchFailure): never {
  throw new PatchError(`${list}[${index}]: ${error.message}`, error.position, error.operation);
}

export function toToml(config: JsonObject): string {
  return stringifyToml(config);
}
