import { homedir } from 'node:os';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { defaultClusterName } from '../config/names.js';
import { clusterKubeconfig } from '../cluster/clusters.js';
import { exportLogs } from '../cluster/logs.js';
import { updateKubeconfigFile } from '../cluster/kubeconfig-file.js';
import { entryFromAdminConf, mergeKubeconfig, resolveKubeconfigPath } from '../cluster/kubeconfig-merge.js';
import { contextFrom } from './context.js';
import { withEngine } from './engine.js';
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
      const path = resolveKubeconfigPath({
        ...(flags.kubeconfig !== undefined ? { flag: flags.kubeconfig } : {}),
        env: ctx.env,
        home: ctx.env.HOME ?? homedir(),
      });
      const result = await withEngine(ctx, (engine) =>
        clusterKubeconfig(engine, flags.name, { internal: flags.internal === true }),
      );
      const entry = entryFromAdminConf(result.kubeconfig, result.context, result.server);
      await updateKubeconfigFile(path, (existing) => mergeKubeconfig(existing, entry, path));
      printResult(
        ctx,
        { context: result.context, server: result.server, kubeconfigPath: path },
        () => `Set kubectl context "${result.context}" in ${path}.`,
      );
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
      const result = await withEngine(ctx, (engine) =>
        exportLogs({ engine, logger: ctx.logger, cluster: flags.name, dir: target }),
      );
      for (const problem of result.problems) ctx.logger.warn(problem);
      printResult(ctx, result, () => `Exported logs of ${result.nodes.length} node(s) to ${result.dir}`);
    });
}
