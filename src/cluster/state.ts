import { request } from 'node:https';
import { readFile as readContainerFile } from '../engine/files.js';
import type { Engine } from '../engine/types.js';
import { isKurError } from '../util/errors.js';
import { claimName, completeMarkerPath } from './claim.js';

/**
 * What `kur get clusters` says about a cluster, from real checks:
 * - `incomplete`: its create never finished (killed, or failed with --retain);
 * - `stopped`: no container runs (`kur stop cluster`, or an engine that does not restart them);
 * - `degraded`: some container is not running, or the API server does not answer on its port;
 * - `running`: every container runs and the API server answers.
 */
export type ClusterState = 'running' | 'stopped' | 'degraded' | 'incomplete';

export interface StateFacts {
  /** Create finished (the claim carries the marker); true for clusters made before claims existed. */
  complete: boolean;
  /** Engine states of the cluster's containers (nodes and load balancer). */
  containerStates: string[];
  /** The API server answered /readyz; undefined when it was not asked (remote engine, nothing runs). */
  apiAnswers: boolean | undefined;
}

export function clusterState(facts: StateFacts): ClusterState {
  if (!facts.complete) return 'incomplete';
  const running = facts.containerStates.filter((s) => s === 'running').length;
  if (running === 0 && facts.containerStates.length > 0) return 'stopped';
  if (running < facts.containerStates.length || facts.containerStates.length === 0) return 'degraded';
  return facts.apiAnswers === false ? 'degraded' : 'running';
}

/** Whether create finished: the marker file in the claim container (one archive call). */
export async function createCompleted(engine: Engine, cluster: string): Promise<boolean> {
  try {
    await readContainerFile(engine, claimName(cluster), completeMarkerPath, 4096);
    return true;
  } catch (error) {
    if (isKurError(error, 'notFound')) return false;
    throw error;
  }
}

/**
 * Whether the API server answers at `server` within `timeoutMs`. /readyz is readable without
 * credentials; a published port whose backend is down still accepts TCP (the engine's proxy), so
 * only an HTTP answer counts. The certificate is the cluster's own CA's: not checked here.
 */
export function apiAnswers(server: string, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(`${server}/readyz`, { rejectUnauthorized: false, timeout: timeoutMs }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve(false));
    req.end();
  });
}
