import type { EngineInfo } from '../../engine/detect.js';
import type { LocalRegistry } from '../../kube/containerd.js';
import { planCluster, type ClusterPlan } from '../../kube/plan.js';
import { nodeImageMetadata, type NodeImageMetadata } from '../../nodeimage/image-labels.js';
import { clusterFacts } from '../cluster-facts.js';
import type { CreateRun } from './context.js';
import type { Phase } from '../../ui/phases.js';

/** The node images on the engine (the default one built when missing), and the first plan. */
export const nodeImagePhase: Phase<
  CreateRun,
  { info: EngineInfo; registries: LocalRegistry[] },
  { image: NodeImageMetadata; plan: ClusterPlan }
> = {
  id: 'node-image',
  title: 'Node image',
  run: async ({ info, registries }, run, step) => {
    step.status(run.image);
    await run.ensureImage(run.image, step);
    const image = nodeImageMetadata(await run.engine.images.inspect(run.image), run.image);
    const plan = planCluster(run.config, clusterFacts(info, image, run.image, undefined, registries));
    for (const node of plan.nodes) {
      if (node.image !== run.image) await run.ensureImage(node.image, step);
    }
    return { image, plan };
  },
};
