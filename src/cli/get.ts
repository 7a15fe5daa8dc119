import type { Command } from 'commander';
import { getKubeconfig, getNodes, listClusters } from '../api/clusters.js';
import { getServices } from '../api/load-balancers.js';
import type { GetClustersResult, GetNodesResult, GetServicesResult } from '../api/results.js';
import { defaultClusterName } from '../config/names.js';
import { contextFrom, engineOptions } from './context.js';
import { printResult, table } from './output.js';

export function registerGet(get: Command): void {
  get
    .command('clusters')
    .description('list kur clusters on the engine')
    .action(async (_flags: object, command: Command) => {
      const ctx = contextFrom(command);
      const clusters = await listClusters(engineOptions(ctx));
      printResult(ctx, { clusters }, renderClusters);
    });

  get
    .command('nodes')
    .description("list a cluster's node containers")
    .option('-n, --name <name>', 'cluster name', defaultClusterName)
    .action(async (flags: { name: string }, command: Command) => {
      const ctx = contextFrom(command);
      const nodes = await getNodes({ ...engineOptions(ctx), cluster: flags.name });
      printResult(ctx, { cluster: flags.name, nodes }, renderNodes);
    });

  get
    .command('services')
    .description(
      "list a cluster's Services of type LoadBalancer and their host ports (see `kur serve load-balancers`)",
    )
    .option('-n, --name <name>', 'cluster name', defaultClusterName)
    .action(async (flags: { name: string }, command: Command) => {
      const ctx = contextFrom(command);
      const services = await getServices({ ...engineOptions(ctx), cluster: flags.name });
      printResult(ctx, { cluster: flags.name, services }, renderServices);
    });

  get
    .command('kubeconfig')
    .description("print a cluster's kubeconfig")
    .option('-n, --name <name>', 'cluster name', defaultClusterName)
    .option('--internal', 'use the address nodes and containers on the engine network use')
    .action(async (flags: { name: string; internal?: boolean }, command: Command) => {
      const ctx = contextFrom(command);
      const result = await getKubeconfig({
        ...engineOptions(ctx),
        cluster: flags.name,
        internal: flags.internal === true,
      });
      printResult(ctx, result, (r) => r.kubeconfig);
    });
}

/** One line a cluster: its name, state (running, stopped, degraded, incomplete) and node count. */
export function renderClusters({ clusters }: GetClustersResult): string {
  if (clusters.length === 0) return 'No kur clusters.';
  return table(
    ['NAME', 'STATE', 'NODES'],
    clusters.map((c) => [c.name, c.state, String(c.nodes.length)]),
  );
}

export function renderNodes({ nodes }: GetNodesResult): string {
  return table(
    ['NAME', 'ROLE', 'STATE', 'IMAGE'],
    nodes.map((n) => [n.name, n.role, n.state, n.image]),
  );
}

/** One line a Service: where the host reaches each of its ports. */
export function renderServices({ cluster, services }: GetServicesResult): string {
  if (services.length === 0)
    return `No Service load balancers in cluster "${cluster}" (is \`kur serve load-balancers\` running?).`;
  return table(
    ['NAMESPACE', 'NAME', 'STATE', 'PORTS'],
    services.map((s) => [
      s.namespace,
      s.name,
      s.state,
      s.ports.map((p) => `${p.address}->${p.port}/${p.protocol}`).join(','),
    ]),
  );
}
