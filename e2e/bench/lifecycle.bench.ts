/**
 * Lifecycle benchmark: `npx tsx e2e/bench/lifecycle.bench.ts` (part of `make bench`).
 *
 * On each engine KUR_E2E_ENGINES selects (default rootful-docker), through the built CLI: creates
 * a one-node and a three-node cluster, then KUR_BENCH_RUNS times (default 3) `kur stop cluster`
 * and `kur start cluster` of the one-node cluster (start returns once every node is Ready and DNS
 * answers), and, as root,
 * KUR_BENCH_RUNS times an engine restart with both clusters until every node is Ready and DNS answers
 * (Docker restarts nodes itself; on rootless Podman `kur start cluster` does). Prints one JSON
 * document on stdout with medians and every sample; progress goes to stderr.
 */
import { randomBytes } from 'node:crypto';
import { selectedEngines } from '../support/cluster-engines.js';
import { median, threeNodeConfig } from '../support/cluster-configs.js';
import { E2eRun } from '../support/clusters.js';
import { lifecycle, restartEngine } from '../support/durability.js';

const runs = Number(process.env.KUR_BENCH_RUNS ?? 3);
const targets = { stopMs: 3_000, startOneNodeMs: 15_000, engineRestartThreeNodesMs: 30_000 };

function log(text: string): void {
  process.stderr.write(`bench: ${text}\n`);
}

async function timed(work: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await work();
  return Math.round(performance.now() - started);
}

async function benchEngine(run: E2eRun): Promise<object> {
  const one = run.clusterName('bench-one');
  const three = run.clusterName('bench-three');
  await run.prepare();
  try {
    await run.createCluster(one);
    await run.createCluster(three, { config: threeNodeConfig });
    const result: Record<string, object> = {};
    // The targets are about one node for stop and start, three nodes for a restart.
    const stop: number[] = [];
    const start: number[] = [];
    for (let i = 0; i < runs; i += 1) {
      stop.push(await timed(() => lifecycle(run, 'stop', one)));
      start.push(await timed(() => lifecycle(run, 'start', one)));
      log(`${run.target.id} one node: stop ${stop.at(-1)} ms, start to Ready + DNS ${start.at(-1)} ms`);
    }
    result['one-node'] = {
      stopMs: { median: Math.round(median(stop)), samples: stop },
      startMs: { median: Math.round(median(start)), samples: start },
    };
    if (process.getuid?.() === 0) {
      // The engine's own stop and start (dockerd stopping its containers with their stop timeout,
      // then starting) is timed apart from what follows, the part kur and the nodes decide.
      const engine: number[] = [];
      const ready: number[] = [];
      for (let i = 0; i < runs; i += 1) {
        engine.push(
          await timed(async () => {
            await restartEngine(run.target.id);
            await run.prepare();
          }),
        );
        // start waits for Ready + DNS; on Docker the nodes are already coming back by themselves.
        ready.push(await timed(() => Promise.all([one, three].map((name) => lifecycle(run, 'start', name)))));
        log(
          `${run.target.id}: engine restart ${engine.at(-1)} ms, then every node Ready + DNS ${ready.at(-1)} ms`,
        );
      }
      const total = engine.map((ms, i) => ms + ready[i]!);
      result.engineRestart = {
        engineStopStartMs: { median: Math.round(median(engine)), samples: engine },
        bothClustersReadyWithDnsAfterEngineMs: { median: Math.round(median(ready)), samples: ready },
        totalMs: { median: Math.round(median(total)), samples: total },
      };
    }
    return result;
  } finally {
    await run.cleanUp([one, three]);
  }
}

const found = selectedEngines(process.env, ['rootful-docker']);
if ('missing' in found) {
  log(`no engines: ${found.missing}`);
  process.exit(1);
}
const engines: Record<string, object> = {};
for (const target of found.engines) {
  engines[target.id] = await benchEngine(new E2eRun(target, randomBytes(3).toString('hex')));
}
process.stdout.write(`${JSON.stringify({ runs, targets, engines }, null, 2)}\n`);
