/**
 * Cluster benchmark: `npx tsx e2e/bench/cluster.bench.ts` (what `make bench` runs).
 *
 * Creates and deletes a one-node and a three-node cluster (KUR_BENCH_SHAPES=one-node or three-node
 * for one of them) KUR_BENCH_RUNS times (default 3) on each
 * engine KUR_E2E_ENGINES selects (default rootful-docker), through the built CLI like a user:
 * `kur -q -o json create cluster` gives per-phase `timings` and `totalMs`. After each create it
 * lets the cluster settle (KUR_BENCH_SETTLE_SECONDS, default 60) and reads each node container's
 * memory from its own cgroup (see nodeMemory). Prints one JSON document on stdout with medians,
 * every sample, the issue's targets, and each run's critical path (timeline.ts: kur's phases and
 * Kubernetes' own timestamps) with each event's median; progress goes to stderr.
 */
import { randomBytes } from 'node:crypto';
import { cpus, totalmem } from 'node:os';
import { selectedEngines } from '../support/cluster-engines.js';
import { median, threeNodeConfig } from '../support/cluster-configs.js';
import { E2eRun } from '../support/clusters.js';
import type { CreateClusterResult } from '../../src/api/results.js';
import { networkAndJoinStep } from '../../src/cluster/create.js';
import { readEngineFacts } from '../../src/engine/detect.js';
import type { Engine } from '../../src/engine/types.js';
import { silentLogger } from '../../src/util/logger.js';
import { kurVersion } from '../../src/version.js';
import { kubernetesEvents, phaseEvents, timeline, type TimelineEvent } from './timeline.js';

const runs = positiveInt(process.env.KUR_BENCH_RUNS, 3);
const settleSeconds = positiveInt(process.env.KUR_BENCH_SETTLE_SECONDS, 60);
/** KUR_BENCH_MEMORY=0 skips settling and the memory readings (quicker A/B runs of create times). */
const measureMemory = process.env.KUR_BENCH_MEMORY !== '0';

/** The targets of the cluster lifecycle and speed issues (2-core machines). */
const targets = {
  oneNodeReadyWithDnsMs: 12_000,
  threeNodesReadyWithDnsMs: 20_000,
  deleteMs: 1_000,
  controlPlaneMemoryMiB: 600,
};

const allShapes = [
  { id: 'one-node', nodes: 1, config: undefined },
  {
    id: 'three-node',
    nodes: 3,
    config: threeNodeConfig,
  },
] as const;

/** KUR_BENCH_SHAPES=one-node (or three-node) narrows the run; default both. */
const wantedShapes = (process.env.KUR_BENCH_SHAPES ?? '').split(',').filter(Boolean);
const shapes = allShapes.filter((s) => wantedShapes.length === 0 || wantedShapes.includes(s.id));

function positiveInt(text: string | undefined, fallback: number): number {
  const value = Number(text);
  return Number.isInteger(value) && value > 0 ? value : fallback;
}

function log(text: string): void {
  process.stderr.write(`bench: ${text}\n`);
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
  /** From the node's own memory cgroup; undefined when it has none (rootless on cgroup v1). */
  cgroup?: {
    /** Bytes charged to the node's cgroup (page cache included). */
    usageBytes: number;
    /** usage minus inactive file cache: what kubelet and `docker stats` call the working set. */
    workingSetBytes: number;
  };
  /** Sum of the proportional set size of every process in the node (shared pages split). */
  pssBytes: number;
}

/**
 * A node's memory, read inside the node. Where the engine gives each container a memory cgroup,
 * from that cgroup (nodes run with a private cgroup namespace, so the root they see is their own):
 * cgroup v1 memory.usage_in_bytes and memory.stat's total_inactive_file, v2 memory.current and
 * inactive_file; the same numbers Docker's stats endpoint reports (our Engine interface has none).
 * Always also the PSS sum over /proc, the one figure a rootless cgroup v1 node has: there the
 * memory cgroup a node sees is the engine session's, shared by every node. The two differ: PSS
 * counts the file pages the node maps (its binaries) even when the page cache charged them to
 * another cgroup (the first node, or the host, that read them); the cgroup counts kernel memory.
 */
async function nodeMemory(engine: Engine, node: string, ownCgroup: boolean): Promise<NodeMemory> {
  const script = [
    'if [ -f /sys/fs/cgroup/memory/memory.usage_in_bytes ]; then',
    '  echo usage $(cat /sys/fs/cgroup/memory/memory.usage_in_bytes)',
    '  echo inactive $(awk \'$1=="total_inactive_file"{print $2}\' /sys/fs/cgroup/memory/memory.stat)',
    'elif [ -f /sys/fs/cgroup/memory.current ]; then',
    '  echo usage $(cat /sys/fs/cgroup/memory.current)',
    '  echo inactive $(awk \'$1=="inactive_file"{print $2}\' /sys/fs/cgroup/memory.stat)',
    'fi',
    'echo pss $(cat /proc/[0-9]*/smaps_rollup 2>/dev/null | awk \'$1=="Pss:"{kb+=$2} END{print kb*1024}\')',
  ].join('\n');
  const result = await engine.containers.exec(node, { cmd: ['sh', '-c', script], check: true });
  const value = (key: string): number => {
    const match = new RegExp(`^${key} (\\d+)$`, 'm').exec(result.stdout);
    if (match === null) throw new Error(`no ${key} in the memory readings of ${node}: ${result.stdout}`);
    return Number(match[1]);
  };
  const pssBytes = value('pss');
  if (!ownCgroup) return { pssBytes };
  const usage = value('usage');
  return { cgroup: { usageBytes: usage, workingSetBytes: usage - value('inactive') }, pssBytes };
}

interface Sample {
  totalMs: number;
  createWallMs: number;
  deleteWallMs: number;
  phases: Record<string, number>;
  /** Role -> working set MiB of each node with that role (own memory cgroup only). */
  memoryMiB: Record<string, number[]>;
  usageMiB: Record<string, number[]>;
  pssMiB: Record<string, number[]>;
  /** kur's phases and Kubernetes' own timestamps, seconds after the first phase began. */
  timeline: TimelineEvent[];
}

/** Nodes and pods as the API server has them, read inside the control-plane node. */
async function clusterObjects(engine: Engine, created: CreateClusterResult): Promise<string> {
  const node = created.nodes.find((n) => n.role === 'control-plane') ?? created.nodes[0]!;
  const result = await engine.containers.exec(node.name, {
    cmd: ['kubectl', '--kubeconfig=/etc/kubernetes/admin.conf', 'get', 'nodes,pods', '-A', '-o', 'json'],
    check: true,
    timeoutMs: 30_000,
  });
  return result.stdout;
}

async function sampleOnce(
  run: E2eRun,
  shape: (typeof shapes)[number],
  index: number,
  ownCgroup: boolean,
): Promise<Sample> {
  const name = run.clusterName(`${shape.nodes}n${index}`);
  const started = performance.now();
  let created: CreateClusterResult;
  try {
    created = await run.createCluster(name, shape.config !== undefined ? { config: shape.config } : {});
  } catch (error) {
    await run.forceDelete(name);
    throw error;
  }
  const createWallMs = performance.now() - started;
  // The first phase began totalMs before the process ended (its exit takes milliseconds).
  const firstPhaseEpochMs = Date.now() - created.totalMs;
  const events = timeline(
    phaseEvents(created.timings, [networkAndJoinStep.title]),
    kubernetesEvents(await clusterObjects(run.engine, created), firstPhaseEpochMs, name),
  );
  log(
    `${name}: critical path\n${events.map((e) => `  ${e.at.toFixed(1).padStart(5)} s  ${e.what}`).join('\n')}`,
  );
  log(
    `${name}: created in ${created.totalMs} ms (wall ${Math.round(createWallMs)} ms); settling ${settleSeconds} s`,
  );
  const memoryMiB: Record<string, number[]> = {};
  const usageMiB: Record<string, number[]> = {};
  const pssMiB: Record<string, number[]> = {};
  let deleteWallMs: number;
  try {
    if (measureMemory) await new Promise((resolve) => setTimeout(resolve, settleSeconds * 1000));
    for (const node of measureMemory ? created.nodes : []) {
      // Three readings 5 s apart; the median smooths a probe or a GC in flight.
      const readings: NodeMemory[] = [];
      for (let i = 0; i < 3; i += 1) {
        if (i > 0) await new Promise((resolve) => setTimeout(resolve, 5000));
        readings.push(await nodeMemory(run.engine, node.name, ownCgroup));
      }
      (pssMiB[node.role] ??= []).push(median(readings.map((r) => r.pssBytes)) / mib);
      if (!ownCgroup) continue;
      (memoryMiB[node.role] ??= []).push(median(readings.map((r) => r.cgroup!.workingSetBytes)) / mib);
      (usageMiB[node.role] ??= []).push(median(readings.map((r) => r.cgroup!.usageBytes)) / mib);
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
  return {
    totalMs: created.totalMs,
    createWallMs,
    deleteWallMs,
    phases,
    memoryMiB,
    usageMiB,
    pssMiB,
    timeline: events,
  };
}

function summarize(samples: Sample[]) {
  const phaseNames = [...new Set(samples.flatMap((s) => Object.keys(s.phases)))];
  const roles = [...new Set(samples.flatMap((s) => Object.keys(s.pssMiB)))];
  const byRole = (pick: (s: Sample) => Record<string, number[]>) =>
    Object.fromEntries(
      roles
        .map((r) => [r, samples.flatMap((s) => pick(s)[r] ?? [])] as const)
        .filter(([, values]) => values.length > 0)
        .map(([r, values]) => [r, stat(values)]),
    ) as Record<string, Stat>;
  return {
    totalMs: stat(samples.map((s) => s.totalMs)),
    createWallMs: stat(samples.map((s) => s.createWallMs)),
    deleteWallMs: stat(samples.map((s) => s.deleteWallMs)),
    phasesMs: Object.fromEntries(
      phaseNames.map((p) => [p, stat(samples.map((s) => s.phases[p]).filter((v) => v !== undefined))]),
    ),
    memoryWorkingSetMiB: byRole((s) => s.memoryMiB),
    memoryUsageMiB: byRole((s) => s.usageMiB),
    memoryPssMiB: byRole((s) => s.pssMiB),
    criticalPathS: criticalPath(samples),
    timelines: samples.map((s) => s.timeline),
  };
}

/** Each event's median time over the runs (events seen in every run), in order. */
function criticalPath(samples: Sample[]): Record<string, number> {
  const names = [...new Set(samples.flatMap((s) => s.timeline.map((e) => e.what)))];
  const medians = names
    .map((what) => {
      const ats = samples.map((s) => s.timeline.find((e) => e.what === what)?.at);
      return { what, at: ats.every((a) => a !== undefined) ? median(ats) : undefined };
    })
    .filter((e): e is { what: string; at: number } => e.at !== undefined)
    .sort((a, b) => a.at - b.at);
  return Object.fromEntries(medians.map((e) => [e.what, Math.round(e.at * 10) / 10]));
}

async function benchEngine(run: E2eRun) {
  // Without a memory cgroup per container (rootless on cgroup v1) a node's cgroup is shared.
  const ownCgroup = (await readEngineFacts(run.engine, silentLogger)).limits.memory;
  const results: Record<string, ReturnType<typeof summarize> & { nodes: number }> = {};
  for (const shape of shapes) {
    const samples: Sample[] = [];
    for (let i = 0; i < runs; i += 1) {
      log(`${run.target.id}: ${shape.id} run ${i + 1}/${runs}`);
      samples.push(await sampleOnce(run, shape, i, ownCgroup));
    }
    results[shape.id] = { nodes: shape.nodes, ...summarize(samples) };
  }
  const one = results['one-node'];
  const three = results['three-node'];
  const measured = [one, three].filter((r) => r !== undefined);
  // The cgroup working set where the node has its own cgroup, else the PSS sum.
  const memoryMeasure = ownCgroup ? 'memoryWorkingSetMiB' : 'memoryPssMiB';
  const controlPlane = Math.max(
    ...measured.map((r) => r[memoryMeasure]['control-plane']?.median ?? Number.NaN),
  );
  const deleteMs = Math.max(...measured.map((r) => r.deleteWallMs.median));
  const verdict = (r: (typeof measured)[number] | undefined, targetMs: number) =>
    r === undefined ? null : { medianMs: r.totalMs.median, targetMs, met: r.totalMs.median <= targetMs };
  return {
    clusters: results,
    verdicts: {
      oneNodeReadyWithDns: verdict(one, targets.oneNodeReadyWithDnsMs),
      threeNodesReadyWithDns: verdict(three, targets.threeNodesReadyWithDnsMs),
      delete: { medianMs: deleteMs, targetMs: targets.deleteMs, met: deleteMs <= targets.deleteMs },
      controlPlaneMemory: {
        measure: memoryMeasure,
        medianMiB: controlPlane,
        targetMiB: targets.controlPlaneMemoryMiB,
        met: controlPlane <= targets.controlPlaneMemoryMiB,
      },
    },
  };
}

async function main(): Promise<number> {
  const found = selectedEngines(process.env, ['rootful-docker']);
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
        'inside each node after settling, median of 3 readings 5 s apart: memoryUsageMiB = its own memory cgroup (v1 memory.usage_in_bytes, v2 memory.current), memoryWorkingSetMiB = usage - inactive file cache (as docker stats and kubelet), both only where the engine gives containers a memory cgroup; memoryPssMiB = sum of Pss over /proc/*/smaps_rollup in the node (always)',
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
