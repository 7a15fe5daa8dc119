import { homedir } from 'node:os';
import type { Command } from 'commander';
import { defaultClusterName } from '../config/names.js';
import { deleteCluster, listClusterNames, type DeletedCluster } from '../cluster/delete.js';
import { resolveKubeconfigPath } from '../cluster/kubeconfig-merge.js';
import { contextFrom } from './context.js';
import { withEngine } from './engine.js';
import { printResult } from './output.js';

interface DeleteFlags {
  name: string;
  all?: boolean;
  kubeconfig?: string;
}

export function registerDeleteCluster(del: Command): void {
  del
    .command('cluster')
    .description('delete a cluster: its containers, volumes and kubeconfig entries (nothing else)')
    .option('-n, --name <name>', 'cluster name', defaultClusterName)
    .option('-A, --all', 'delete every kur cluster on the engine')
    .option(
      '--kubeconfig <file>',
      'kubeconfig to remove the cluster from (default $KUBECONFIG or ~/.kube/config)',
    )
    .action(async (flags: DeleteFlags, command: Command) => {
      const ctx = contextFrom(command);
      const kubeconfigPath = resolveKubeconfigPath({
        ...(flags.kubeconfig !== undefined ? { flag: flags.kubeconfig } : {}),
        env: ctx.env,
        home: ctx.env.HOME ?? homedir(),
      });
      const deleted = await withEngine(ctx, async (engine) => {
        const names = flags.all === true ? await listClusterNames(engine) : [flags.name];
        const results: DeletedCluster[] = [];
        // One at a time: they share the network, whose removal waits for the last cluster.
        for (const name of names) {
          results.push(await deleteCluster({ engine, logger: ctx.logger, name, kubeconfigPath }));
        }
        return results;
      });
      printResult(ctx, { deleted }, () =>
        deleted.length === 0
          ? 'No clusters to delete.'
          : deleted
              .map((d) =>
                d.containers.length === 0 && !d.kubeconfigEntryRemoved
                  ? `Cluster "${d.name}" does not exist; nothing to delete.`
                  : `Deleted cluster "${d.name}" (${d.containers.length} container(s)${d.kubeconfigEntryRemoved ? ', kubeconfig entry' : ''}).`,
              )
              .join('\n'),
      );
    });
}
