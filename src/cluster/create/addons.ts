import type { ClusterPlan } from '../../kube/plan.js';
import { applyAddons } from '../addons.js';
import { bootstrapNode } from '../bootstrap.js';
import type { CreateRun } from './context.js';
import type { Phase } from '../../ui/phases.js';

/** Applied, not waited for: the cluster is usable before the add-on pods run. */
export const addonsPhase: Phase<CreateRun, { plan: ClusterPlan }, object> = {
  id: 'addons',
  title: 'Apply add-ons (default StorageClass, NetworkPolicy)',
  run: async ({ plan }, run) => {
    await applyAddons(run.engine, bootstrapNode(plan), plan, run.logger);
    return {};
  },
};
