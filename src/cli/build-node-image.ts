import { Option, type Command } from 'commander';
import { buildNodeImageWith } from '../api/images.js';
import { buildNodeImageResult, totalDurationMs } from '../api/results.js';
import type { BinarySource, BuiltNodeImage } from '../nodeimage/build.js';
import { formatDuration } from '../util/duration.js';
import { KurError } from '../util/errors.js';
import { contextFrom, engineOptions, interruptible, presentation } from './context.js';
import { printResult } from './output.js';

interface BuildFlags {
  kubernetesVersion?: string;
  source: BinarySource;
  mirror?: string;
  binaries?: string;
  image?: string;
  archive?: string;
  load: boolean;
  push?: string;
}

export function registerBuild(build: Command): void {
  build
    .command('node-image')
    .description(
      'build a Kubernetes node image from pinned sources (no registry) and load it into the engine',
    )
    .option('--kubernetes-version <version>', 'Kubernetes version (default: the version this kur pins)')
    .addOption(
      new Option('--source <source>', 'where Kubernetes and companions come from')
        .choices(['go', 'release', 'local'])
        .default('go'),
    )
    .option('--mirror <url>', 'release source: fetch https://<host>/<path> from <url>/<host>/<path>')
    .option('--binaries <path>', 'local source: a directory or .tar(.gz) of binaries')
    .option('--image <name>', 'image name (default kur.local/node:<kubernetes version>)')
    .option('--archive <file>', 'also write the image archive (docker-archive tar) to this file')
    .option('--no-load', 'do not load the image into the engine (with --archive)')
    .option('--push <ref>', 'also push it through the engine to a registry (host[:port]/name:tag)')
    .action(async (flags: BuildFlags, command: Command) => {
      const ctx = contextFrom(command);
      if (!flags.load && flags.archive === undefined) {
        throw new KurError('usage', '--no-load needs --archive: the image would go nowhere');
      }
      const built = await interruptible(ctx, (signal) =>
        buildNodeImageWith(
          {
            ...engineOptions(ctx),
            image: flags.image,
            kubernetesVersion: flags.kubernetesVersion,
            source: flags.source,
            mirror: flags.mirror,
            binaries: flags.binaries,
            archive: flags.archive,
            load: flags.load,
            push: flags.push,
            signal,
          },
          presentation(ctx),
        ),
      );
      // Phases in the same shape as `create cluster`'s.
      printResult(ctx, buildNodeImageResult(built), () => renderBuilt(built));
    });
}

function megabytes(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

export function renderBuilt(built: BuiltNodeImage): string {
  const total = totalDurationMs(built.timings);
  const lines = [
    `${built.loaded ? 'Built and loaded' : 'Built'} ${built.image} (${built.imageId.slice(0, 19)}, ${megabytes(built.sizeBytes)}) in ${formatDuration(total)}`,
    'Layers:',
    ...built.layers.map(
      (l) => `  ${l.name.padEnd(18)} ${megabytes(l.sizeBytes).padStart(10)}  ${l.diffId.slice(0, 19)}`,
    ),
    'Components:',
    ...built.manifest.components.map((c) => `  ${c.name.padEnd(18)} ${c.version.padEnd(10)} ${c.source}`),
    `Base: Debian ${built.manifest.base.suite}, ${built.manifest.base.packages} packages (sha256 ${built.manifest.base.sha256.slice(0, 12)})`,
    'Preloaded images:',
    ...built.manifest.preloadedImages.map((i) => `  ${i.name}`),
    ...(built.pushed === undefined
      ? []
      : [
          built.pushed.digest !== undefined
            ? `Pushed ${built.pushed.reference} (digest ${built.pushed.digest})`
            : `Pushed ${built.pushed.reference} (the engine did not report the manifest digest)`,
        ]),
  ];
  return lines.join('\n');
}
