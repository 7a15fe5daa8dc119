/**
 * Node image benchmark: `npx tsx e2e/bench/node-image.bench.ts` (part of `make bench`).
 *
 * Warm rebuild: `kur -o json build node-image` KUR_BENCH_RUNS times (default 3) with the caches as
 * they are, loading into the engine kur finds; the median is reported with every sample. Cold
 * build (KUR_BENCH_COLD=1, 20+ minutes on 2 cores): one build with an empty kur cache and an empty
 * Go build cache (the Go module download cache is kept: it is a download, not a build), under a
 * separate image name so the default image is untouched. Prints one JSON document on stdout with
 * the image size, each layer's size, and the targets; progress goes to stderr.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureBuilt, projectRoot } from '../support/kur-cli.js';

interface BuildJson {
  image: string;
  imageId: string;
  sizeBytes: number;
  layers: { name: string; diffId: string; sizeBytes: number }[];
  timings: { phase: string; ms: number }[];
}

const runs = Number(process.env.KUR_BENCH_RUNS ?? '3') || 3;
const targets = { imageMaxMB: 600, imageAimMB: 400, warmRebuildMaxS: 60 };

function log(text: string): void {
  process.stderr.write(`bench: ${text}\n`);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

async function build(args: string[], env: NodeJS.ProcessEnv): Promise<{ ms: number; result: BuildJson }> {
  const started = performance.now();
  const child = spawn('node', ['bin/kur.js', '-q', '-o', 'json', 'build', 'node-image', ...args], {
    cwd: projectRoot,
    env,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let stdout = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  if (code !== 0) throw new Error(`kur build node-image ${args.join(' ')} exited with ${code}`);
  return { ms: performance.now() - started, result: JSON.parse(stdout) as BuildJson };
}

const mb = (bytes: number): number => Math.round(bytes / 1e5) / 10;

ensureBuilt();
const warm: number[] = [];
let last: BuildJson | undefined;
// One build first so "warm" means warm even on a machine that never built the image.
log('priming the caches (a cold machine builds everything here)');
await build([], process.env);
for (let i = 0; i < runs; i += 1) {
  const { ms, result } = await build([], process.env);
  warm.push(Math.round(ms));
  last = result;
  log(`warm rebuild ${i + 1}/${runs}: ${(ms / 1000).toFixed(1)} s`);
}

let cold: { ms: number; phases: Record<string, number>; imageId: string; sameIdAsWarm: boolean } | undefined;
if (process.env.KUR_BENCH_COLD === '1') {
  const dir = await mkdtemp(join(tmpdir(), 'kur-bench-cold-'));
  try {
    log(`cold build into ${dir} (empty kur cache and Go build cache)`);
    const { ms, result } = await build(['--image', 'kur.local/node:bench-cold'], {
      ...process.env,
      KUR_CACHE_DIR: join(dir, 'kur'),
      GOCACHE: join(dir, 'go-build'),
    });
    cold = {
      ms: Math.round(ms),
      // Same inputs, empty caches, another name: the same image ID means the build is reproducible.
      imageId: result.imageId,
      sameIdAsWarm: result.imageId === last?.imageId,
      phases: Object.fromEntries(
        result.timings.filter((t) => !t.phase.includes(' > ')).map((t) => [t.phase, t.ms]),
      ),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

process.stdout.write(
  `${JSON.stringify(
    {
      benchmark: 'node-image',
      host: { cpus: cpus().length },
      image: last?.image,
      imageId: last?.imageId,
      sizeMB: mb(last?.sizeBytes ?? 0),
      layersMB: Object.fromEntries((last?.layers ?? []).map((l) => [l.name, mb(l.sizeBytes)])),
      warmRebuildMs: { median: median(warm), samples: warm },
      coldBuildMs: cold ?? 'not measured (set KUR_BENCH_COLD=1; 20+ minutes on 2 cores)',
      targets,
    },
    null,
    2,
  )}\n`,
);
