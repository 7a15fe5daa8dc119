import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import type { Command } from 'commander';
import { loadClusterConfig, normalizeClusterConfig } from '../config/load.js';
import type { ClusterConfig } from '../config/types.js';
import { createClusterWithEngine } from '../cluster/create-use-case.js';
import { resolveKubeconfigPath } from '../cluster/kubeconfig-merge.js';
import { chooseRenderer } from '../ui/progress.js';
import { parseDuration, formatDuration } from '../util/duration.js';
import { KurError, messageOf } from '../util/errors.js';
import { contextFrom, type CliContext } from './context.js';
import { withEngine } from './engine.js';
import { printResult } from './output.js';
import { abortOnSignals } from './signals.js';

interface CreateFlags {
  name?: string;
  config?: string;
  image?: string;
  wait: string;
  retain?: boolean;
  kubeconfig?: string;
}

export function registerCreateCluster(create: Command): void {
  create
    .command('cluster')
    .description('create a Kubernetes cluster in node containers (builds the node image if it is missing)')
    .option('-n, --name <name>', 'cluster name (overrides the config file; default "kur")')
    .option('-c, --config <file>', 'cluster config file (kur.dev/v1alpha1 or kind v1alpha4), "-" for stdin')
    .option('--image <image>', 'node image for nodes the config does not give one')
    .option('--wait <duration>', 'wait this long for Ready nodes and DNS (0: do not wait)', '5m')
    .option('--retain', 'keep the node containers if create fails (for debugging)')
    .option('--kubeconfig <file>', 'kubeconfig to add the cluster to (default $KUBECONFIG or ~/.kube/config)')
    .action(async (flags: CreateFlags, command: Command) => {
      const ctx = contextFrom(command);
      const config = await readConfig(flags);
      const waitMs = parseDuration(flags.wait, '--wait');
      const kubeconfigPath = resolveKubeconfigPath({
        ...(flags.kubeconfig !== undefined ? { flag: flags.kubeconfig } : {}),
        env: ctx.env,
        home: ctx.env.HOME ?? homedir(),
      });
      const result = await withEngine(ctx, (engine) =>
        abortOnSignals(ctx.logger, (signal) =>
          createClusterWithEngine({
            engine,
            config,
            ...(flags.image !== undefined ? { image: flags.image } : {}),
            waitMs,
            retain: flags.retain === true,
            kubeconfigPath,
            logger: ctx.logger,
            renderer: chooseRenderer({ quiet: ctx.logger.level === 'quiet', plain: ctx.plainProgress }),
            signal,
            env: ctx.env,
          }),
        ),
      );
      printCreated(ctx, result);
    });
}

async function readConfig(flags: CreateFlags): Promise<ClusterConfig> {
  const name = flags.name;
  if (flags.config === undefined) return normalizeClusterConfig({}, name !== undefined ? { name } : {});
  const source = flags.config === '-' ? '<stdin>' : flags.config;
  let text: string;
  try {
    text = flags.config === '-' ? await readStdin() : await readFile(flags.config, 'utf8');
  } catch (error) {
    throw new KurError('config', `cannot read config ${source}: ${messageOf(error)}`, {
      hint: 'Pass an existing file to --config, or "-" to read it from standard input.',
    });
  }
  return loadClusterConfig({ text, source, ...(name !== undefined ? { name } : {}) });
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function printCreated(ctx: CliContext, result: Awaited<ReturnType<typeof createClusterWithEngine>>): void {
  const total = result.timings.filter((t) => t.path.length === 1).reduce((sum, t) => sum + t.durationMs, 0);
  const data = {
    name: result.name,
    context: result.context,
    server: result.server,
    kubeconfigPath: result.kubeconfigPath ?? null,
    kubernetesVersion: result.kubernetesVersion,
    nodes: result.nodes,
    timings: result.timings.map((t) => ({ phase: t.path.join(' > '), ms: Math.round(t.durationMs) })),
    totalMs: Math.round(total),
  };
  printResult(ctx, data, () =>
    [
      `Cluster "${result.name}" is ready (${formatDuration(total)}): Kubernetes ${result.kubernetesVersion}, ${result.nodes.length} node(s).`,
      `API server: ${result.server}`,
      result.kubeconfigPath !== undefined
        ? `kubectl context "${result.context}" is set in ${result.kubeconfigPath}. Try: kubectl --context ${result.context} get nodes`
        : '',
    ]
      .filter((l) => l !== '')
      .join('\n'),
  );
}
