import { homedir } from 'node:os';
import type { Command } from 'commander';
import { defaultClusterName } from '../config/names.js';
import { clusterKubeconfig } from '../cluster/clusters.js';
import { updateKubeconfigFile } from '../cluster/kubeconfig-file.js';
import { entryFromAdminConf, mergeKubeconfig, resolveKubeconfigPath } from '../cluster/kubeconfig-merge.js';
import { contextFrom } from './context.js';
import { withEngine } from './engine.js';
import { printResult } from './output.js';

export function registerExportKubeconfig(exp: Command): void {
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
}
