/**
 * Cluster benchmark: `npx tsx e2e/bench/cluster.bench.ts` (what `make bench` runs).
 *
 * Creates and deletes a one-node and a three-node cluster KUR_BENCH_RUNS times (default 3) on each
 * engine KUR_E2E_ENGINES selects (default rootful-docker), through the built CLI like a user:
 * `kur -q -o json create cluster` gives per-phase `timings` and `totalMs`. After each create it
 * lets the cluster settle (KUR_BENCH_SETTLE_SECONDS, default 60) and reads each node container's
 * memory from its own cgroup (see nodeMemory). Prints one JSON document on stdout with medians,
 * every sample, and the targets; progress goes to stderr.
 */
import { randomBytes } from 'node:crypto';
import { cpus, totalmem } from 'node:os';
import { selectedEngines } from '../support/cluster-engines.js';
import { E2eRun, type CreatedClusterJson } from '../support/clusters.js';
import type { Engine } from '../../src/engine/types.js';
import { kurVersion } from '../../src/version.js';

const runs = positiveInt(process.env.KUR_BENCH_RUNS, 3);
const settleSeconds = positiveInt(process.env.KUR_BENCH_SETTLE_SECONDS, 60);

/** The targets of the cluster lifecycle issue (2-core machines). */
const targets = {
  oneNodeReadyWithDnsMs: 20_000,
  threeNodesReadyWithDnsMs: 35_000,
  deleteMs: 3_000,
  controlPlaneMemoryMiB: 600,
};

const shapes = [
  { id: 'one-node', nodes: 1, config: undefined },
  {
    id: 'three-node',
    nodes: 3,
    config: [
      'apiVersion: kur.dev/v1alpha1',
      'kind: Cluster',
      'nodes:',
      '  - role: control-plane',
      '  - role: worker',
      '  - role: worker',
      '',
    ].join('\n'),
  },
] as const;

function positiveInt(text: string | undefined, fallback: number): number {
  const value = Number(text);
  return Number.isInteger(value) && value > 0 ? value : fallback;
}

function log(text: string): void {
  process.stderr.write(`bench: ${text}\n`);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  if (sorted.length === 0) return Number.NaN;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

interface Stat {
  median: number;
  samples: number[];
}

function stat(samples: number[]): Stat {
  return { median: Math.round(median(samples)), samples: samples.map((s) => Math.round(s)) };
}

const mib = 1024 * 1024;

interface NodeMemory {
  /** Bytes charged to the node's cgroup (page cache included). */
  usageBytes: number;
  /** usage minus inactive file cache: what kubelet and `docker stats` call the working set. */
  workingSetBytes: number;
}

/**
 * A node's memory, read inside the node from its own memory cgroup (nodes run with a private
 * cgroup namespace, so the root of the hierarchy they see is the container's cgroup). cgroup v1:
 * memory.usage_in_bytes and memory.stat's total_inactive_file; v2: memory.current and inactive_file.
 * Our Engine interface has no stats endpoint; this is the same number Docker's stats reports.
 */
async function nodeMemory(engine: Engine, node: string): Promise<NodeMemory> {
  const script = [
    'set -e',
    'if [ -f /sys/fs/cgroup/memory/memory.usage_in_bytes ]; then',
    '  echo usage $(cat /sys/fs/cgroup/memory/memory.usage_in_bytes)',
    '  echo inactive $(awk \'$1=="total_inactive_file"{print $2}\' /sys/fs/cgroup/memory/memory.stat)',
    'else',
    '  echo usage $(cat /sys/fs/cgroup/memory.current)',
    '  echo inactive $(awk \'$1=="inactive_file"{print $2}\' /sys/fs/cgroup/memory.stat)',
    'fi',
  ].join('\n');
  const result = await engine.containers.exec(node, { cmd: ['sh', '-c', script], check: true });
  const value = (key: string): number => {
    const match = new RegExp(`^${key} (\\d+)$`, 'm').exec(result.stdout);
    if (match === null) throw new Error(`no ${key} in the memory cgroup of ${node}: ${result.stdout}`);
    return Number(match[1]);
  };
  const usage = value('usage');
  return { usageBytes: usage, workingSetBytes: usage - value('inactive') };
}

interface Sample {
  totalMs: number;
  createWallMs: number;
  deleteWallMs: number;
  phases: Record<string, number>;
  /** Role -> working set MiB of each node with that role. */
  memoryMiB: Record<string, number[]>;
  usageMiB: Record<string, number[]>;
}

async function sampleOnce(run: E2eRun, shape: (typeof shapes)[number], index: number): Promise<Sample> {
  const name = run.clusterName(`${shape.nodes}n${index}`);
  const started = performance.now();
  let created: CreatedClusterJson;
  try {
    created = await run.createCluster(name, shape.config !== undefined ? { config: shape.config } : {});
  } catch (error) {
    await run.forceDelete(name);
    throw error;
  }
  const createWallMs = performance.now() - started;
  log(
    `${name}: created in ${created.totalMs} ms (wall ${Math.round(createWallMs)} ms); settling ${settleSeconds} s`,
  );
  const memoryMiB: Record<string, number[]> = {};
  const usageMiB: Record<string, number[]> = {};
  let deleteWallMs: number;
  try {
    await new Promise((resolve) => setTimeout(resolve, settleSeconds * 1000));
    for (const node of created.nodes) {
      // Three readings 5 s apart; the median smooths a probe or a GC in flight.
      const readings: NodeMemory[] = [];
      for (let i = 0; i < 3; i += 1) {
        if (i > 0) await new Promise((resolve) => setTimeout(resolve, 5000));
        readings.push(await nodeMemory(run.engine, node.name));
      }
      (memoryMiB[node.role] ??= []).push(median(readings.map((r) => r.workingSetBytes)) / mib);
      (usageMiB[node.role] ??= []).push(median(readings.map((r) => r.usageBytes)) / mib);
    }
  } finally {
    const deleteStarted = performance.now();
    await run.deleteCluster(name);
    deleteWallMs = performance.now() - deleteStarted;
  }
  log(`${name}: deleted in ${Math.round(deleteWallMs)} ms`);
  const phases: Record<string, number> = {};
  // Child phases carry node names; name them by role so runs (each its own cluster) line up.
  for (const t of created.timings) phases[t.phase.replaceAll(name, '<cluster>')] = t.ms;
  return { totalMs: created.totalMs, createWallMs, deleteWallMs, phases, memoryMiB, usageMiB };
}

function summarize(samples: Sample[]) {
  const phaseNames = [...new Set(samples.flatMap((s) => Object.keys(s.phases)))];
  const roles = [...new Set(samples.flatMap((s) => Object.keys(s.memoryMiB)))];
  return {
    totalMs: stat(samples.map((s) => s.totalMs)),
    createWallMs: stat(samples.map((s) => s.createWallMs)),
    deleteWallMs: stat(samples.map((s) => s.deleteWallMs)),
    phasesMs: Object.fromEntries(
      phaseNames.map((p) => [p, stat(samples.map((s) => s.phases[p]).filter((v) => v !== undefined))]),
    ),
    memoryWorkingSetMiB: Object.fromEntries(
      roles.map((r) => [r, stat(samples.flatMap((s) => s.memoryMiB[r] ?? []))]),
    ),
    memoryUsageMiB: Object.fromEntries(
      roles.map((r) => [r, stat(samples.flatMap((s) => s.usageMiB[r] ?? []))]),
    ),
  };
}

async function benchEngine(run: E2eRun) {
  const results: Record<string, ReturnType<typeof summarize> & { nodes: number }> = {};
  for (const shape of shapes) {
    const samples: Sample[] = [];
    for (let i = 0; i < runs; i += 1) {
      log(`${run.target.id}: ${shape.id} run ${i + 1}/${runs}`);
      samples.push(await sampleOnce(run, shape, i));
    }
    results[shape.id] = { nodes: shape.nodes, ...summarize(samples) };
  }
  const one = results['one-node']!;
  const three = results['three-node']!;
  const controlPlane = Math.max(
    one.memoryWorkingSetMiB['control-plane']?.median ?? Number.NaN,
    three.memoryWorkingSetMiB['control-plane']?.median ?? Number.NaN,
  );
  return {
    clusters: results,
    verdicts: {
      oneNodeReadyWithDns: {
        medianMs: one.totalMs.median,
        targetMs: targets.oneNodeReadyWithDnsMs,
        met: one.totalMs.median <= targets.oneNodeReadyWithDnsMs,
      },
      threeNodesReadyWithDns: {
        medianMs: three.totalMs.median,
        targetMs: targets.threeNodesReadyWithDnsMs,
        met: three.totalMs.median <= targets.threeNodesReadyWithDnsMs,
      },
      delete: {
        medianMs: Math.max(one.deleteWallMs.median, three.deleteWallMs.median),
        targetMs: targets.deleteMs,
        met: Math.max(one.deleteWallMs.median, three.deleteWallMs.median) <= targets.deleteMs,
      },
      controlPlaneMemory: {
        medianMiB: controlPlane,
        targetMiB: targets.controlPlaneMemoryMiB,
        met: controlPlane <= targets.controlPlaneMemoryMiB,
      },
    },
  };
}

async function main(): Promise<number> {
  const found = selectedEngines();
  if ('missing' in found) {
    log(found.missing);
    return 2;
  }
  const engines: Record<string, unknown> = {};
  const report = {
    kur: kurVersion(),
    host: { cpus: cpus().length, memoryMiB: Math.round(totalmem() / mib) },
    runs,
    settleSeconds,
    method: {
      totalMs:
        'kur -q -o json create cluster: totalMs (sum of its top-level phases, through Ready nodes, CoreDNS ready and the kubeconfig)',
      createWallMs: 'wall time of the whole kur create process',
      deleteWallMs: 'wall time of the whole `kur delete cluster` process',
      memory:
        'inside each node after settling: its memory cgroup (v1 memory.usage_in_bytes, v2 memory.current); working set = usage - inactive file cache; median of 3 readings 5 s apart',
    },
    targets,
    engines,
  };
  let failed = false;
  for (const target of found.engines) {
    const run = new E2eRun(target, randomBytes(3).toString('hex'));
    try {
      await run.prepare();
      const version = await run.engine.system.version();
      engines[target.id] = {
        host: target.host,
        version: version.Version,
        ...(await benchEngine(run)),
      };
    } catch (error) {
      failed = true;
      log(`${target.id}: ${error instanceof Error ? error.message : String(error)}`);
      engines[target.id] = {
        host: target.host,
        error: error instanceof Error ? error.message : String(error),
      };
    } finally {
      await run.dispose();
    }
  }
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  return failed ? 1 : 0;
}

process.exitCode = await main();
