import { execFile } from 'node:child_process';
import { join } from 'node:path';
import type { GetClustersResult, StartClustersResult, StopClustersResult } from '../../src/api/results.js';
import { claimRole } from '../../src/cluster/claim.js';
import { labels } from '../../src/engine/labels.js';
import type { Engine } from '../../src/engine/types.js';
import type { E2eRun } from './clusters.js';
import { describeRun, expectSuccess, parseJson, projectRoot } from './kur-cli.js';

export async function clusterStates(run: E2eRun): Promise<Record<string, string>> {
  const result = await run.kur(['-o', 'json', 'get', 'clusters']);
  expectSuccess(result, 'kur get clusters');
  const list = parseJson<GetClustersResult>(result, 'get clusters');
  return Object.fromEntries(list.clusters.map((c) => [c.name, c.state]));
}

/** Each node container's address on the kur network, by container name. */
export async function nodeAddresses(engine: Engine, cluster: string): Promise<Record<string, string>> {
  const found = await engine.containers.list({ labels: { [labels.cluster]: cluster } });
  const addresses: Record<string, string> = {};
  for (const c of found) {
    if (c.labels[labels.role] === claimRole) continue;
    const info = await engine.containers.inspect(c.id);
    addresses[c.name] = Object.values(info.networks)[0]?.ipv4Address ?? '';
  }
  return addresses;
}

/** Restarts the engine through the harness (e2e/host/restart-engine.sh), as root. */
export function restartEngine(engineId: string): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(
      'bash',
      [join(projectRoot, 'e2e', 'host', 'restart-engine.sh'), engineId],
      { timeout: 5 * 60_000 },
      (error, stdout, stderr) =>
        error === null
          ? resolve()
          : reject(new Error(`restart-engine.sh ${engineId}: ${error.message}\n${stdout}${stderr}`)),
    );
  });
}

/** `kur <verb> cluster --name <name>` with JSON output; fails with kur's output unless it succeeds. */
export async function lifecycle(run: E2eRun, verb: 'stop', name: string): Promise<StopClustersResult>;
export async function lifecycle(run: E2eRun, verb: 'start', name: string): Promise<StartClustersResult>;
export async function lifecycle(
  run: E2eRun,
  verb: 'start' | 'stop',
  name: string,
): Promise<StopClustersResult | StartClustersResult> {
  const result = await run.kur(['-q', '-o', 'json', verb, 'cluster', '--name', name]);
  if (result.code !== 0) throw new Error(`kur ${verb} cluster --name ${name}: ${describeRun(result)}`);
  return parseJson<StopClustersResult | StartClustersResult>(result, `${verb} cluster`);
}
