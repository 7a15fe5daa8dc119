import type { Command } from 'commander';
import { stopClusters } from '../api/lifecycle.js';
import type { StopClustersResult } from '../api/results.js';
import { clusterSelection, selectionOptions, type SelectionFlags } from './cluster-flags.js';
import { contextFrom, engineOptions } from './context.js';
import { printResult } from './output.js';

export function registerStopCluster(stop: Command): void {
  selectionOptions(
    stop
      .command('cluster')
      .description("stop a cluster's containers, keeping their state for `kur start cluster`"),
    'stop',
  ).action(async (flags: SelectionFlags, command: Command) => {
    const ctx = contextFrom(command);
    const stopped = await stopClusters({ ...engineOptions(ctx), clusters: clusterSelection(flags) });
    printResult(ctx, { stopped }, renderStopped);
  });
}

export function renderStopped({ stopped }: StopClustersResult): string {
  if (stopped.length === 0) return 'No clusters to stop.';
  return stopped.map((s) => `Stopped cluster "${s.name}" (${s.containers.length} container(s)).`).join('\n');
}
