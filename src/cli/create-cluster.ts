import type { Command } from 'commander';
import { createOnEngine } from '../api/create-cluster.js';
import { defaultWait, resolveCreateOptions } from '../api/create-options.js';
import { kubeconfigPathFor } from '../api/kubeconfig-path.js';
import { createClusterResult, type CreateClusterResult } from '../api/results.js';
import { formatDuration, parseDuration } from '../util/duration.js';
import { contextFrom, engineOptions, interruptible, presentation } from './context.js';
import { printResult } from './output.js';

interface CreateFlags {
  name?: string;
  config?: string;
  image?: string;
  wait: string;
  retain?: boolean;
  kubeconfig?: string;
  registry: string[];
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

export function registerCreateCluster(create: Command): void {
  create
    .command('cluster')
    .description('create a Kubernetes cluster in node containers (builds the node image if it is missing)')
    .option('-n, --name <name>', 'cluster name (overrides the config file; default "kur")')
    .option('-c, --config <file>', 'cluster config file (kur.dev/v1alpha1 or kind v1alpha4), "-" for stdin')
    .option('--image <image>', 'node image for nodes the config does not give one')
    .option('--wait <duration>', 'wait this long for Ready nodes and DNS (0: do not wait)', defaultWait)
    .option(
      '--registry <name>',
      'a local registry (kur create registry) the nodes pull localhost:<port>/… through; repeatable',
      collect,
      [],
    )
    .option('--retain', 'keep the node containers if create fails (for debugging)')
    .option('--kubeconfig <file>', 'kubeconfig to add the cluster to (default $KUBECONFIG or ~/.kube/config)')
    .action(async (flags: CreateFlags, command: Command) => {
      const ctx = contextFrom(command);
      const resolved = await resolveCreateOptions({
        ...engineOptions(ctx),
        name: flags.name,
        configFile: flags.config,
        image: flags.image,
        ...(flags.registry.length > 0 ? { registries: flags.registry } : {}),
        wait: parseDuration(flags.wait, '--wait'),
        retain: flags.retain === true,
        kubeconfig: kubeconfigPathFor(flags.kubeconfig, ctx.env),
      });
      const { created } = await interruptible(ctx, (signal) =>
        createOnEngine({ ...resolved, signal }, presentation(ctx)),
      );
      printResult(ctx, createClusterResult(created), renderCreated);
    });
}

export function renderCreated(result: CreateClusterResult): string {
  return [
    `Cluster "${result.name}" is ready (${formatDuration(result.totalMs)}): Kubernetes ${result.kubernetesVersion}, ${result.nodes.length} node(s).`,
    `API server: ${result.server}`,
    result.kubeconfigPath !== null
      ? `kubectl context "${result.context}" is set in ${result.kubeconfigPath}. Try: kubectl --context ${result.context} get nodes`
      : '',
  ]
    .filter((l) => l !== '')
    .join('\n');
}
