import type { Command } from 'commander';
import { defaultWait } from '../api/create-options.js';
import { startClusters } from '../api/lifecycle.js';
import { startedClusterResult, type StartClustersResult } from '../api/results.js';
import { formatDuration, parseDuration } from '../util/duration.js';
import { clusterSelection, selectionOptions, type SelectionFlags } from './cluster-flags.js';
import { contextFrom, engineOptions, interruptible, presentation } from './context.js';
import { printResult } from './output.js';

interface StartFlags extends SelectionFlags {
  wait: string;
}

export function registerStartCluster(start: Command): void {
  selectionOptions(
    start.command('cluster').description('start a stopped cluster again and wait until it serves'),
    'start',
  )
    .option('--wait <duration>', 'wait this long for Ready nodes and DNS (0: do not wait)', defaultWait)
    .action(async (flags: StartFlags, command: Command) => {
      const ctx = contextFrom(command);
      const waitMs = parseDuration(flags.wait, '--wait');
      const started = await interruptible(ctx, (signal) =>
        startClusters(
          { ...engineOptions(ctx), clusters: clusterSelection(flags), wait: waitMs, signal },
          presentation(ctx),
        ),
      );
      printResult(ctx, { started: started.map(startedClusterResult) }, renderStarted);
    });
}

export function renderStarted({ started }: StartClustersResult): string {
  if (started.length === 0) return 'No clusters to start.';
  return started
    .map(
      (s) =>
        `Cluster "${s.name}" is running again (${formatDuration(s.totalMs)}): ${s.nodes.length} node(s), API server ${s.server}.`,
    )
    .join('\n');
}
