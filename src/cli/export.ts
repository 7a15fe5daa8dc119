import { resolve } from 'node:path';
import type { Command } from 'commander';
import { exportKubeconfig, exportLogs } from '../api/clusters.js';
import { kubeconfigPathFor } from '../api/kubeconfig-path.js';
import { defaultClusterName } from '../config/names.js';
import { contextFrom, engineOptions } from './context.js';
import { printResult } from './output.js';

export function registerExport(exp: Command): void {
  exp
    .command('kubeconfig')
    .description("merge a cluster's entry into a kubeconfig file and make it the current context")
    .option('-n, --name <name>', 'cluster name', defaultClusterName)
    .option('--internal', 'use the address nodes and containers on the engine network use')
    .option('--kubeconfig <file>', 'kubeconfig to write (default $KUBECONFIG or ~/.kube/config)')
    .action(async (flags: { name: string; internal?: boolean; kubeconfig?: string }, command: Command) => {
      const ctx = contextFrom(command);
      const result = await exportKubeconfig({
        ...engineOptions(ctx),
        cluster: flags.name,
        internal: flags.internal === true,
        kubeconfig: kubeconfigPathFor(flags.kubeconfig, ctx.env),
      });
      printResult(ctx, result, (r) => `Set kubectl context "${r.context}" in ${r.kubeconfigPath}.`);
    });

  exp
    .command('logs [dir]')
    .description(
      "collect a cluster's logs (journal, kubelet, containerd, pods, engine inspect) into a directory",
    )
    .option('-n, --name <name>', 'cluster name', defaultClusterName)
    .action(async (dir: string | undefined, flags: { name: string }, command: Command) => {
      const ctx = contextFrom(command);
      const target = resolve(
        dir ?? `kur-logs-${flags.name}-${new Date().toISOString().replace(/[:.]/g, '-')}`,
      );
      const result = await exportLogs({ ...engineOptions(ctx), cluster: flags.name, dir: target });
      for (const problem of result.problems) ctx.logger.warn(problem);
      printResult(ctx, result, (r) => `Exported logs of ${r.nodes.length} node(s) to ${r.dir}`);
    });
}
