import type { Command } from 'commander';
import { deleteClusters } from '../api/clusters.js';
import { kubeconfigPathFor } from '../api/kubeconfig-path.js';
import type { DeleteClustersResult } from '../api/results.js';
import { clusterSelection, selectionOptions, type SelectionFlags } from './cluster-flags.js';
import { contextFrom, engineOptions } from './context.js';
import { printResult } from './output.js';

interface DeleteFlags extends SelectionFlags {
  kubeconfig?: string;
}

export function registerDeleteCluster(del: Command): void {
  selectionOptions(
    del
      .command('cluster')
      .description('delete a cluster: its containers, volumes and kubeconfig entries (nothing else)'),
    'delete',
  )
    .option(
      '--kubeconfig <file>',
      'kubeconfig to remove the cluster from (default $KUBECONFIG or ~/.kube/config)',
    )
    .action(async (flags: DeleteFlags, command: Command) => {
      const ctx = contextFrom(command);
      const deleted = await deleteClusters({
        ...engineOptions(ctx),
        clusters: clusterSelection(flags),
        kubeconfig: kubeconfigPathFor(flags.kubeconfig, ctx.env),
      });
      printResult(ctx, { deleted }, renderDeleted);
    });
}

export function renderDeleted({ deleted }: DeleteClustersResult): string {
  if (deleted.length === 0) return 'No clusters to delete.';
  return deleted
    .map((d) =>
      d.containers.length === 0 && !d.kubeconfigEntryRemoved
        ? `Cluster "${d.name}" does not exist; nothing to delete.`
        : `Deleted cluster "${d.name}" (${d.containers.length} container(s)${d.kubeconfigEntryRemoved ? ', kubeconfig entry' : ''}).`,
    )
    .join('\n');
}
