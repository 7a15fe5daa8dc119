import type { Command } from 'commander';
import { defaultClusterName } from '../config/names.js';
import { clusterKubeconfig, clusterNodes, listClusters } from '../cluster/clusters.js';
import { contextFrom } from './context.js';
import { withEngine } from './engine.js';
import { printResult, table } from './output.js';

export function registerGet(get: Command): void {
  get
    .command('clusters')
    .description('list kur clusters on the engine')
    .action(async (_flags: object, command: Command) => {
      const ctx = contextFrom(command);
      const clusters = await withEngine(ctx, listClusters);
      printResult(ctx, { clusters }, () =>
        clusters.length === 0 ? 'No kur clusters.' : clusters.map((c) => c.name).join('\n'),
      );
    });

  get
    .command('nodes')
    .description("list a cluster's node containers")
    .option('-n, --name <name>', 'cluster name', defaultClusterName)
    .action(async (flags: { name: string }, command: Command) => {
      const ctx = contextFrom(command);
      const nodes = await withEngine(ctx, (engine) => clusterNodes(engine, flags.name));
      printResult(ctx, { cluster: flags.name, nodes }, () =>
        table(
          ['NAME', 'ROLE', 'STATE', 'IMAGE'],
          nodes.map((n) => [n.name, n.role, n.state, n.image]),
        ),
      );
    });

  get
    .command('kubeconfig')
    .description("print a cluster's kubeconfig")
    .option('-n, --name <name>', 'cluster name', defaultClusterName)
    .option('--internal', 'use the address nodes and containers on the engine network use')
    .action(async (flags: { name: string; internal?: boolean }, command: Command) => {
      const ctx = contextFrom(command);
      const result = await withEngine(ctx, (engine) =>
        clusterKubeconfig(engine, flags.name, { internal: flags.internal === true }),
      );
      printResult(ctx, result, () => result.kubeconfig);
    });
}
