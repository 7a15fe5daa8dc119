import type { ClusterPlan } from '../../kube/plan.js';
import { applyAddons } from '../addons.js';
import { bootstrapNode } from '../bootstrap.js';
import type { CreateInput } from './context.js';
import type { Phase } from './pipeline.js';

/** Applied, not waited for: the cluster is usable before the add-on pods run. */
export const addonsPhase: Phase<CreateInput & { plan: ClusterPlan }, object> = {
  id: 'addons',
  title: 'Apply add-ons (default StorageClass, NetworkPolicy)',
  run: async ({ run, plan }) => {
    await applyAddons(run.engine, bootstrapNode(plan), plan, run.logger);
    return {};
  },
};
