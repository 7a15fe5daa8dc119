import type { ClusterPlan } from '../../kube/plan.js';
import { nodePaths } from '../../node/layout.js';
import { writeFiles as writeContainerFiles } from '../../engine/files.js';
import { bootstrapNode } from '../bootstrap.js';
import { claimName, completeMarkerPath, type ClusterClaim } from '../claim.js';
import { apiServerEndpoint } from '../clusters.js';
import { updateKubeconfigFile } from '../kubeconfig-file.js';
import { entryFromAdminConf, mergeKubeconfig, removeKubeconfigEntry } from '../kubeconfig-merge.js';
import { readFile } from '../node-ops.js';
import type { CreateRun } from './context.js';
import type { Phase } from '../../ui/phases.js';

export const kubeconfigPhase: Phase<
  CreateRun,
  { plan: ClusterPlan },
  { server: string; kubeconfig: string }
> = {
  id: 'kubeconfig',
  title: 'Write the kubeconfig',
  run: async ({ plan }, run) => {
    const server = await apiServerEndpoint(run.engine, plan.name, false);
    const admin = await readFile(run.engine, bootstrapNode(plan), nodePaths.adminKubeconfig);
    const entry = entryFromAdminConf(admin, plan.context, server);
    const path = run.kubeconfigPath;
    if (path !== undefined) {
      run.rollback.add(`kubeconfig entry ${plan.context} in ${path}`, () =>
        updateKubeconfigFile(path, (existing) => removeKubeconfigEntry(existing, plan.context, path)),
      );
      await updateKubeconfigFile(path, (existing) => mergeKubeconfig(existing, entry, path));
    }
    return { server, kubeconfig: mergeKubeconfig(undefined, entry) };
  },
};

/** Marks the claim complete: from now on `kur get clusters` no longer calls the cluster incomplete. */
export const completePhase: Phase<CreateRun, { claim: ClusterClaim }, object> = {
  id: 'complete',
  title: 'Mark the cluster complete',
  run: async ({ claim }, run) => {
    const marker = `${JSON.stringify({ runId: claim.runId, completedAt: new Date().toISOString() })}\n`;
    await writeContainerFiles(run.engine, claimName(claim.cluster), [
      { type: 'file', path: completeMarkerPath, content: marker, mode: 0o644 },
    ]);
    return {};
  },
};
