import type { Command } from 'commander';
import { defaultClusterName } from '../config/names.js';
import { loadDockerImages, loadImageArchive, type LoadResult } from '../cluster/load.js';
import { contextFrom } from './context.js';
import { withEngine } from './engine.js';
import { printResult } from './output.js';

interface LoadFlags {
  name: string;
  nodes?: string;
}

const nodeList = (flags: LoadFlags): string[] | undefined =>
  flags.nodes === undefined
    ? undefined
    : flags.nodes
        .split(',')
        .map((n) => n.trim())
        .filter((n) => n !== '');

function summary(result: LoadResult): string {
  return Object.entries(result.loaded)
    .map(([node, images]) => {
      const skipped = result.skipped[node] ?? [];
      const loaded = images.length === 0 ? 'nothing new' : images.join(', ');
      return `${node}: loaded ${loaded}${skipped.length > 0 ? ` (already present: ${skipped.join(', ')})` : ''}`;
    })
    .join('\n');
}

export function registerLoad(load: Command): void {
  load
    .command('docker-image <images...>')
    .description("load images from the engine's image store into every node (Docker or Podman)")
    .option('-n, --name <name>', 'cluster name', defaultClusterName)
    .option('--nodes <names>', 'comma-separated node names (default: all nodes)')
    .action(async (images: string[], flags: LoadFlags, command: Command) => {
      const ctx = contextFrom(command);
      const nodes = nodeList(flags);
      const result = await withEngine(ctx, (engine) =>
        loadDockerImages({
          engine,
          logger: ctx.logger,
          cluster: flags.name,
          images,
          ...(nodes ? { nodes } : {}),
        }),
      );
      printResult(ctx, result, () => summary(result));
    });

  load
    .command('image-archive <file>')
    .description('load an image archive (docker save / OCI layout tar) into every node')
    .option('-n, --name <name>', 'cluster name', defaultClusterName)
    .option('--nodes <names>', 'comma-separated node names (default: all nodes)')
    .action(async (file: string, flags: LoadFlags, command: Command) => {
      const ctx = contextFrom(command);
      const nodes = nodeList(flags);
      const result = await withEngine(ctx, (engine) =>
        loadImageArchive({
          engine,
          logger: ctx.logger,
          cluster: flags.name,
          archive: file,
          ...(nodes ? { nodes } : {}),
        }),
      );
      printResult(ctx, result, () => summary(result));
    });
}
