// Shared by the corpus-*.test.ts files (no tests here).

/**
 * A corpus of bad configs, one row each: the text, where the first problem is (line:col and
 * field), a fragment of the problem and of the fix. Each must fail as a config error (exit 3)
 * in under a second. Files sit in /cfg, where only /srv/data and /cfg/data exist.
 */
export interface Case {
  title: string;
  lines: string[];
  /** `line:col field` of the first problem. */
  at: string;
  problem: string;
  hint: string;
  source?: string;
}

export const kur = ['apiVersion: kur.dev/v1alpha1', 'kind: Cluster'];
export const kind = ['apiVersion: kind.x-k8s.io/v1alpha4', 'kind: Cluster'];
export const hostPaths = {
  baseDir: '/cfg',
  exists: (path: string) => ['/srv/data', '/cfg/data'].includes(path),
};

/** A cluster-level kubeadm merge patch (its text starts on line 5, indented 4). */
export const mergePatch = (...body: string[]): string[] => [
  ...kur,
  'kubeadmConfigPatches:',
  '  - |',
  ...body.map((l) => `    ${l}`),
];
/** A cluster-level JSON 6902 patch for `target` (operations start on line 7, indented 8). */
export const jsonPatch = (target: string, ...ops: string[]): string[] => [
  ...kur,
  'kubeadmConfigPatchesJSON6902:',
  `  - kind: ${target}`,
  '    patch: |',
  ...ops.map((l) => `      ${l}`),
];
/** One node with these lines (indented under `- `, from line 4). */
export const node = (...lines: string[]): string[] => [
  ...kur,
  'nodes:',
  ...lines.map((l, i) => `${i === 0 ? '  - ' : '    '}${l}`),
];
export const mount = (...lines: string[]): string[] =>
  node('extraMounts:', ...lines.map((l, i) => `${i === 0 ? '  - ' : '    '}${l}`));
export const port = (...lines: string[]): string[] =>
  node('extraPortMappings:', ...lines.map((l, i) => `${i === 0 ? '  - ' : '    '}${l}`));
export const net = (...lines: string[]): string[] => [...kur, 'networking:', ...lines.map((l) => `  ${l}`)];
