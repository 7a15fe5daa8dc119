import type { FieldProblem } from '../patch/fields.js';
import { checkFields, checkPointer } from '../patch/fields.js';
import type { JsonPatchOperation } from '../patch/json-patch.js';
import { parseJsonPatch, parsePointer } from '../patch/json-patch.js';
import { PatchError } from '../patch/json.js';
import type { KubeadmDocumentKind } from '../patch/kubeadm-patches.js';
import {
  isKubeadmDocumentKind,
  kubeadmDocumentKinds,
  kubeadmDocumentVersions,
  parseKubeadmMergePatch,
} from '../patch/kubeadm-patches.js';
import { containerdConfigVersion, parseTomlPatch, tomlPatchVersion } from '../patch/toml-patch.js';
import { locateInYaml, yamlLocator } from '../patch/yaml-text.js';
import type { ConfigPath, ConfigProblem, ProblemList } from './problems.js';
import type { ClusterConfig, Json6902Patch } from './types.js';

/**
 * Patches are checked without the documents they patch (those need the engine's facts, see
 * src/kube/patch-check.ts): each must parse, target a document kur generates, and name only
 * fields that document's type has (the generated field lists). `lenient`: kind's format, where
 * a patch for another version is a warning, since kind skips it too.
 */
export function validatePatches(config: ClusterConfig, problems: ProblemList, lenient: boolean): void {
  const levels: { base: ConfigPath; merge: readonly string[]; json6902: readonly Json6902Patch[] }[] = [
    { base: [], merge: config.kubeadmConfigPatches, json6902: config.kubeadmConfigPatchesJSON6902 },
    ...config.nodes.map((node, i) => ({
      base: ['nodes', i],
      merge: node.kubeadmConfigPatches,
      json6902: node.kubeadmConfigPatchesJSON6902,
    })),
  ];
  for (const level of levels) {
    level.merge.forEach((text, i) =>
      validateMergePatch(text, [...level.base, 'kubeadmConfigPatches', i], problems, lenient),
    );
    level.json6902.forEach((patch, i) =>
      validateJson6902(patch, [...level.base, 'kubeadmConfigPatchesJSON6902', i], problems, lenient),
    );
  }
  config.containerdConfigPatches.forEach((text, i) => {
    const path = ['containerdConfigPatches', i];
    const patch = parsed(() => parseTomlPatch(text), text, path, problems);
    const version = patch === undefined ? undefined : tomlPatchVersion(patch);
    if (version !== undefined && version !== containerdConfigVersion) {
      problems.addOrWarn(
        {
          path,
          problem: `is for containerd config version ${version}; kur's nodes run containerd 2.x (version ${containerdConfigVersion}), so it is skipped`,
          hint: `Write it for version ${containerdConfigVersion}: e.g. plugins."io.containerd.grpc.v1.cri".registry becomes plugins."io.containerd.cri.v1.images".registry.`,
        },
        lenient,
      );
    }
  });
  config.containerdConfigPatchesJSON6902.forEach((text, i) => {
    parsed(() => parseJsonPatch(text), text, ['containerdConfigPatchesJSON6902', i], problems);
  });
}

function validateMergePatch(text: string, path: ConfigPath, problems: ProblemList, lenient: boolean): void {
  const patch = parsed(() => parseKubeadmMergePatch(text), text, path, problems);
  if (patch === undefined) return;
  if (!isKubeadmDocumentKind(patch.kind)) {
    problems.add({
      path,
      problem: `kind ${JSON.stringify(patch.kind)} is not a document kur generates`,
      hint: `Patch one of ${kubeadmDocumentKinds.join(', ')}.`,
      ...inner(locateInYaml(text, ['kind'])),
    });
    return;
  }
  const expected = kubeadmDocumentVersions[patch.kind];
  if (patch.apiVersion !== undefined && patch.apiVersion !== expected) {
    problems.addOrWarn(
      {
        path,
        problem: `apiVersion ${patch.apiVersion} matches no generated document (kur writes ${patch.kind} as ${expected}), so the patch does nothing`,
        hint: `Set apiVersion: ${expected}, or remove apiVersion to patch whatever version kur writes.`,
        ...inner(locateInYaml(text, ['apiVersion'])),
      },
      lenient,
    );
    return;
  }
  const locate = yamlLocator(text);
  for (const field of checkFields(patch.kind, patch.body, { mergePatch: true })) {
    problems.add(fieldProblem(path, field, locate(field.path, field.at)));
  }
}

function validateJson6902(
  patch: Json6902Patch,
  path: ConfigPath,
  problems: ProblemList,
  lenient: boolean,
): void {
  if (!isKubeadmDocumentKind(patch.kind)) {
    problems.add({
      path: patch.kind === '' ? path : [...path, 'kind'],
      problem:
        patch.kind === ''
          ? 'kind is required'
          : `kind ${JSON.stringify(patch.kind)} is not a document kur generates`,
      hint: `Set kind to one of ${kubeadmDocumentKinds.join(', ')}.`,
    });
  } else if (!selectsGenerated(patch, patch.kind)) {
    const expected = kubeadmDocumentVersions[patch.kind];
    problems.addOrWarn(
      {
        path,
        problem: `group/version ${patch.group}/${patch.version} matches no generated document (kur writes ${patch.kind} as ${expected}), so the patch does nothing`,
        hint: `Set group and version to match ${expected}, or leave them empty.`,
      },
      lenient,
    );
  }
  const patchPath = [...path, 'patch'];
  const operations = parsed(() => parseJsonPatch(patch.patch), patch.patch, patchPath, problems);
  if (operations === undefined || !isKubeadmDocumentKind(patch.kind)) return;
  const kind = patch.kind;
  const locate = yamlLocator(patch.patch);
  operations.forEach((operation, i) => {
    for (const field of operationFields(kind, operation)) {
      const where = `operation ${i} (${operation.op} ${operation.path})`;
      const located = locate([i, ...field.inPatch], field.problem.at);
      problems.add(
        fieldProblem(patchPath, { ...field.problem, problem: `${where}: ${field.problem.problem}` }, located),
      );
    }
  });
}

/** Field problems of one operation, each with where in the operation to point (`path`, `value.x`). */
function operationFields(
  kind: KubeadmDocumentKind,
  operation: JsonPatchOperation,
): { problem: FieldProblem; inPatch: (string | number)[] }[] {
  const out: { problem: FieldProblem; inPatch: (string | number)[] }[] = [];
  const tokens = parsePointer(operation.path, '');
  const pathProblem = checkPointer(kind, tokens);
  if (pathProblem !== undefined) out.push({ problem: { ...pathProblem, at: 'value' }, inPatch: ['path'] });
  if ('from' in operation) {
    const fromProblem = checkPointer(kind, parsePointer(operation.from, ''));
    if (fromProblem !== undefined) out.push({ problem: { ...fromProblem, at: 'value' }, inPatch: ['from'] });
  }
  if ('value' in operation && pathProblem === undefined) {
    const base = tokens.map((t) => (/^\d+$/.test(t) ? Number(t) : t));
    for (const problem of checkFields(kind, operation.value, { base })) {
      out.push({ problem, inPatch: ['value', ...problem.path.slice(base.length)] });
    }
  }
  return out;
}

function selectsGenerated(patch: Json6902Patch, kind: KubeadmDocumentKind): boolean {
  const [group, version] = kubeadmDocumentVersions[kind].split('/') as [string, string];
  return (patch.group === '' || patch.group === group) && (patch.version === '' || patch.version === version);
}

function fieldProblem(
  path: ConfigPath,
  field: FieldProblem,
  position: ConfigProblem['inner'],
): ConfigProblem {
  return { path, problem: field.problem, hint: field.hint, ...inner(position) };
}

function inner(position: ConfigProblem['inner']): Pick<ConfigProblem, 'inner'> {
  return position === undefined ? {} : { inner: position };
}

/**
 * Runs a patch parser; a PatchError becomes a problem pointing into the patch text (at the
 * error's own position, or at the operation it names).
 */
export function parsed<T>(
  parse: () => T,
  text: string,
  path: ConfigPath,
  problems: ProblemList,
): T | undefined {
  try {
    return parse();
  } catch (error) {
    if (!(error instanceof PatchError)) throw error;
    problems.add(patchProblem(error, text, path));
    return undefined;
  }
}

/** A failed patch as a config problem, pointing into the patch text where that is known. */
export function patchProblem(error: PatchError, text: string, path: ConfigPath): ConfigProblem {
  const position =
    error.position ?? (error.operation === undefined ? undefined : locateInYaml(text, [error.operation]));
  return { path, problem: error.message, hint: 'Fix the patch text at that position.', ...inner(position) };
}
