import { rm } from 'node:fs/promises';
import { createHostPaths } from '../../config/host-paths.js';
import type { EngineInfo } from '../../engine/detect.js';
import type { ClusterPlan } from '../../kube/plan.js';
import type { StepContext } from '../../ui/progress.js';
import { KurError } from '../../util/errors.js';
import type { ClusterClaim } from '../claim.js';
import { removeClusterContainers } from '../delete.js';
import { waitForSystemd } from '../node-ops.js';
import { loadBalancerContainerSpec, nodeContainerSpec } from '../node-spec.js';
import type { CreateRun } from './context.js';
import type { Phase } from '../../ui/phases.js';

type NodesInput = { info: EngineInfo; plan: ClusterPlan; claim: ClusterClaim };

/** Node containers (and the HA load balancer) on their claimed addresses, in parallel, until systemd runs. */
export const nodesPhase: Phase<CreateRun, NodesInput, object> = {
  id: 'nodes',
  title: 'Start nodes',
  run: async ({ info, plan, claim }, run, step) => {
    // Registered before the first create: a container whose create is in flight when the run
    // fails is removed by the second rollback pass. Only this run's containers, by its run id.
    run.rollback.add(`containers of cluster ${plan.name} from this run`, () =>
      removeClusterContainers(run.engine, plan.name, { runId: run.runId, keepClaim: true }),
    );
    // Directories the config asks kur to create, made by kur as its user, never by the engine.
    if (run.engine.endpoint.connection.kind === 'unix') {
      const made = createHostPaths(plan.config);
      if (made.length > 0) {
        run.rollback.add(`host directories ${made.join(', ')}`, () =>
          Promise.all(made.reverse().map((dir) => rm(dir, { recursive: true, force: true }))),
        );
      }
    }
    const lb = plan.loadBalancer;
    const address = (name: string): { runId: string; ipv4: string } => ({
      runId: run.runId,
      ipv4: requireAddress(claim, name),
    });
    await step.children(
      [
        ...(lb === undefined
          ? []
          : [
              {
                id: lb.name,
                title: lb.name,
                run: () => startContainer(run, loadBalancerContainerSpec(plan, lb, address(lb.name))),
              },
            ]),
        ...plan.nodes.map((node) => ({
          id: node.name,
          title: node.name,
          run: async (child: StepContext) => {
            await startContainer(run, nodeContainerSpec(plan, node, info, run.host, address(node.name)));
            child.status('booting systemd');
            await waitForSystemd(run.engine, node, {
              timeoutMs: 120_000,
              signal: run.signal,
              logger: run.logger,
            });
          },
        })),
      ],
      { concurrent: true },
    );
    return {};
  },
};

async function startContainer(
  run: CreateRun,
  spec: Parameters<CreateRun['engine']['containers']['create']>[0],
): Promise<void> {
  const id = await run.engine.containers.create(spec);
  await run.engine.containers.start(id);
}

function requireAddress(claim: ClusterClaim, name: string): string {
  const ip = claim.addresses[name];
  if (ip === undefined)
    throw new KurError('internal', `the claim of ${claim.cluster} has no address for ${name}`);
  return ip;
}
