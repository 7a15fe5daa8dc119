import { randomBytes } from 'node:crypto';
import type { EngineInfo } from '../../engine/detect.js';
import { planCluster, type ClusterPlan } from '../../kube/plan.js';
import { generateCertificateKey } from '../../kube/tokens.js';
import { nodePaths, parseNodeEnv, type NodeFacts } from '../../node/layout.js';
import type { NodeImageMetadata } from '../../nodeimage/image-labels.js';
import { clusterFacts } from '../cluster-facts.js';
import { readFile, run as runIn, writeFiles } from '../node-ops.js';
import type { CreateRun } from './context.js';
import type { Phase } from '../../ui/phases.js';

type ConfigureInput = { info: EngineInfo; image: NodeImageMetadata; plan: ClusterPlan };
type ConfigureOutput = { plan: ClusterPlan; nodeFacts: NodeFacts; certificateKey: string | undefined };

export const degradedModeWarning =
  'DEGRADED MODE: the nodes cannot write cgroups (a rootless engine without delegated cgroup controllers). ' +
  'Pods run without CPU, memory or pid limits and without OOM isolation; resource stats show the whole node. ' +
  'Fine for tests of behaviour, not of resource use. See "Rootless" in the README for the host fix.';

/** Plans again with what the entrypoint found (snapshotter, writable cgroups), then writes containerd's config. */
export const configurePhase: Phase<CreateRun, ConfigureInput, ConfigureOutput> = {
  id: 'configure',
  title: 'Configure nodes',
  run: async ({ info, image, plan }, run, step) => {
    const nodeFacts = parseNodeEnv(await readFile(run.engine, plan.nodes[0]!, nodePaths.nodeEnv));
    if (!nodeFacts.cgroupWritable) run.logger.warn(degradedModeWarning);
    const replanned = planCluster(
      plan.config,
      clusterFacts(info, image, run.image, nodeFacts, plan.facts.registries),
    );
    await step.children(
      replanned.nodes.map((node) => ({
        id: node.name,
        title: node.name,
        run: async () => {
          await writeFiles(run.engine, node, node.files);
          // containerd started at boot with the image's default config; load kur's.
          await runIn(run.engine, node, ['systemctl', 'restart', 'containerd']);
        },
      })),
      { concurrent: true },
    );
    const certificateKey =
      replanned.loadBalancer !== undefined ? generateCertificateKey(randomBytes) : undefined;
    return { plan: replanned, nodeFacts, certificateKey };
  },
};
