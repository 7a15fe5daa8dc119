import { parse as parseToml } from 'smol-toml';
import { parseAllDocuments } from 'yaml';
import { configLocator } from '../config/load.js';
import type { ConfigPath, ConfigProblem, Locator } from '../config/problems.js';
import { configError, formatPath } from '../config/problems.js';
import type { ClusterConfig, NodeConfig } from '../config/types.js';
import { patchProblem } from '../config/validate-patches.js';
import { nodePaths } from '../node/layout.js';
import { fieldListsVersion } from '../patch/fields.js';
import type { JsonObject } from '../patch/json.js';
import type { KubeadmPatchFailure, KubeadmPatchSet } from '../patch/kubeadm-patches.js';
import { applyKubeadmPatches } from '../patch/kubeadm-patches.js';
import type { ContainerdPatchFailure } from '../patch/toml-patch.js';
import { applyContainerdPatches } from '../patch/toml-patch.js';
import type { ClusterFacts, ClusterPlan } from './plan.js';
import { kubeadmConfigFile, planCluster } from './plan.js';

/**
 * The facts the generated documents depend on: the engine's (rootless, cgroups) are needed;
 * the node image's (Kubernetes version, image names, snapshotter) default to the pinned ones,
 * so the check can run right after the engine is detected, before a node image is built.
 */
export type PatchCheckFacts = Pick<ClusterFacts, 'rootless' | 'cgroupVersion' | 'cgroupDriver'> &
  Partial<ClusterFacts>;

/**
 * Applies every patch of a config to the documents kur would generate for each node (kubeadm,
 * kubelet, kube-proxy, containerd) with the engine's facts, before anything is created, and
 * throws one config error listing each patch that does not apply (a JSON 6902 path that is not
 * in the document, a failed test, ...) with its file position. Node IPs, tokens and keys are
 * placeholders here: patches cannot depend on them.
 */
export function checkPatchesApply(
  config: ClusterConfig,
  engineFacts: PatchCheckFacts,
  locator: Locator | undefined = configLocator(config),
): void {
  const facts: ClusterFacts = {
    snapshotter: 'overlayfs',
    provider: 'docker',
    kubernetesVersion: fieldListsVersion,
    images: { node: 'kur.local/node', pause: 'pause', flannel: 'flannel' },
    ...engineFacts,
  };
  const problems = new Map<string, ConfigProblem>();
  const report = (path: ConfigPath, problem: ConfigProblem): void => {
    const key = formatPath(path);
    if (!problems.has(key)) problems.set(key, problem);
  };
  const plan = planCluster(withoutPatches(config), facts);
  checkContainerd(config, plan, report);
  plan.nodes.forEach((node, i) => {
    const docs = generatedKubeadmDocuments(plan, node.name);
    const levels: { base: ConfigPath; set: KubeadmPatchSet }[] = [
      { base: [], set: patchSet(config) },
      { base: ['nodes', i], set: patchSet(config.nodes[i]!) },
    ];
    let patched = docs;
    for (const { base, set } of levels) {
      patched = applyKubeadmPatches(patched, set, (failure) => {
        const { path, text } = kubeadmPatchSource(base, set, failure);
        const problem = patchProblem(failure.error, text, path);
        report(path, { ...problem, problem: `on node ${node.name}: ${problem.problem}` });
      });
    }
  });
  if (problems.size > 0) throw configError([...problems.values()], locator);
}

const placeholders = {
  nodeIP: '10.89.0.2',
  token: 'abcdef.0123456789abcdef',
  certificateKey: '0'.repeat(64),
  caCertHashes: [`sha256:${'0'.repeat(64)}`],
};

function withoutPatches(config: ClusterConfig): ClusterConfig {
  return {
    ...config,
    nodes: config.nodes.map((node): NodeConfig => ({
      ...node,
      kubeadmConfigPatches: [],
      kubeadmConfigPatchesJSON6902: [],
    })),
    kubeadmConfigPatches: [],
    kubeadmConfigPatchesJSON6902: [],
    containerdConfigPatches: [],
    containerdConfigPatchesJSON6902: [],
  };
}

function patchSet(
  level: Pick<ClusterConfig, 'kubeadmConfigPatches' | 'kubeadmConfigPatchesJSON6902'>,
): KubeadmPatchSet {
  return { merge: level.kubeadmConfigPatches, json6902: level.kubeadmConfigPatchesJSON6902 };
}

/** The documents of /kur/kubeadm.yaml for a node, as kur renders them before any user patch. */
function generatedKubeadmDocuments(plan: ClusterPlan, nodeName: string): JsonObject[] {
  const content = kubeadmConfigFile(plan, nodeName, placeholders).content;
  return parseAllDocuments(content).map((doc) => doc.toJS() as JsonObject);
}

function kubeadmPatchSource(
  base: ConfigPath,
  set: KubeadmPatchSet,
  failure: KubeadmPatchFailure,
): { path: ConfigPath; text: string } {
  if (failure.list === 'kubeadmConfigPatches') {
    return { path: [...base, failure.list, failure.index], text: set.merge[failure.index]! };
  }
  return {
    path: [...base, failure.list, failure.index, 'patch'],
    text: set.json6902[failure.index]!.patch,
  };
}

function checkContainerd(
  config: ClusterConfig,
  plan: ClusterPlan,
  report: (path: ConfigPath, problem: ConfigProblem) => void,
): void {
  const file = plan.nodes[0]?.files.find((f) => f.path === nodePaths.containerdConfig);
  if (file === undefined) return;
  const generated = parseToml(file.content) as unknown as JsonObject;
  const texts: Record<ContainerdPatchFailure['list'], readonly string[]> = {
    containerdConfigPatches: config.containerdConfigPatches,
    containerdConfigPatchesJSON6902: config.containerdConfigPatchesJSON6902,
  };
  applyContainerdPatches(
    generated,
    config.containerdConfigPatches,
    config.containerdConfigPatchesJSON6902,
    (failure) => {
      const path = [failure.list, failure.index];
      report(path, patchProblem(failure.error, texts[failure.list][failure.index]!, path));
    },
  );
}
