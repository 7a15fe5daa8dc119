import type { Command } from 'commander';
import { loadImage } from '../api/images.js';
import type { LoadImageResult } from '../api/results.js';
import { defaultClusterName } from '../config/names.js';
import { contextFrom, engineOptions, type CliContext } from './context.js';
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

/** The options both load commands share: cluster, engine, and the `--nodes` list. */
function loadTarget(ctx: CliContext, flags: LoadFlags) {
  const nodes = nodeList(flags);
  return { ...engineOptions(ctx), cluster: flags.name, ...(nodes ? { nodes } : {}) };
}

export function renderLoaded(result: LoadImageResult): string {
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
      const result = await loadImage({ ...loadTarget(ctx, flags), images });
      printResult(ctx, result, renderLoaded);
    });

  load
    .command('image-archive <file>')
    .description('load an image archive (docker save / OCI layout tar) into every node')
    .option('-n, --name <name>', 'cluster name', defaultClusterName)
    .option('--nodes <names>', 'comma-separated node names (default: all nodes)')
    .action(async (file: string, flags: LoadFlags, command: Command) => {
      const ctx = contextFrom(command);
      const result = await loadImage({ ...loadTarget(ctx, flags), archive: file });
      printResult(ctx, result, renderLoaded);
    });
}
