import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClusterWithEngine } from '../cluster/create-use-case.js';
import { deleteCluster as deleteClusterCore, type DeletedCluster } from '../cluster/delete.js';
import { connectEngine } from '../engine/connect.js';
import type { Engine } from '../engine/types.js';
import { messageOf } from '../util/errors.js';
import type { Logger } from '../util/logger.js';
import { Cluster } from './cluster-handle.js';
import { callEnv, callLogger, progressListener, throwIfCancelled, withEngine } from './common.js';
import { resolveCreateOptions, type CreateClusterOptions, type KubeconfigMode } from './create-options.js';

/**
 * Creates a cluster, like `kur create cluster`, and returns a handle that deletes it. Nothing is
 * rendered on a terminal: follow progress with `onProgress` or `progress`. A failure or an abort
 * of `signal` removes what was created (unless `retain`) and rejects with a `KurError`.
 *
 * ```ts
 * await using cluster = await createCluster({ name: 'e2e', nodes: [{ role: 'control-plane' }, { role: 'worker' }] });
 * process.env.KUBECONFIG = cluster.kubeconfigPath;
 * ```
 */
export async function createCluster(options: CreateClusterOptions = {}): Promise<Cluster> {
  const logger = callLogger(options);
  const resolved = await resolveCreateOptions(options, logger);
  const name = resolved.config.name;
  throwIfCancelled(options.signal, `creating cluster ${name}`);
  const env = callEnv(options);
  const engine = await connectEngine({ host: options.host, env, logger });
  // Delete goes to the engine the cluster is on, even if the search would find another later.
  const host = engine.endpoint.connection.kind === 'unix' ? engine.endpoint.address : options.host;
  let created;
  try {
    const onEvent = progressListener(options);
    created = await createClusterWithEngine({
      engine,
      config: resolved.config,
      ...(options.image !== undefined ? { image: options.image } : {}),
      waitMs: resolved.waitMs,
      retain: options.retain === true,
      kubeconfigPath: resolved.kubeconfig.kind === 'file' ? resolved.kubeconfig.path : undefined,
      logger,
      renderer: 'silent',
      ...(onEvent !== undefined ? { onEvent } : {}),
      ...(options.signal !== undefined ? { signal: options.signal } : {}),
      env,
    });
  } finally {
    engine.close();
  }

  const owned = { host, env, logger, name, mode: resolved.kubeconfig };
  let privateDir: string | undefined;
  let kubeconfigPath = created.kubeconfigPath;
  if (resolved.kubeconfig.kind === 'private') {
    try {
      privateDir = await mkdtemp(join(tmpdir(), `kur-${name}-`));
      kubeconfigPath = join(privateDir, 'kubeconfig');
      await writeFile(kubeconfigPath, created.kubeconfig, { mode: 0o600 });
    } catch (error) {
      // The caller never gets a handle, so nothing else would delete the cluster.
      await removeCluster({ ...owned, privateDir }).catch((cleanup: unknown) =>
        logger.warn(
          `could not delete cluster ${name} after a failed kubeconfig write: ${messageOf(cleanup)}`,
        ),
      );
      throw error;
    }
  }
  return new Cluster(
    {
      name,
      context: created.context,
      server: created.server,
      kubeconfig: created.kubeconfig,
      kubeconfigPath,
      nodes: created.nodes,
      kubernetesVersion: created.kubernetesVersion,
      timings: created.timings,
      host,
    },
    () => removeCluster({ ...owned, privateDir }),
  );
}

interface Owned {
  host: string | undefined;
  env: Record<string, string | undefined>;
  logger: Logger;
  name: string;
  mode: KubeconfigMode;
  privateDir: string | undefined;
}

/** Deletes the cluster on its engine, then the kubeconfig the handle owns. */
async function removeCluster(owned: Owned): Promise<DeletedCluster> {
  const result = await withEngine(
    { host: owned.host, env: owned.env, logger: owned.logger },
    (engine: Engine) =>
      deleteClusterCore({
        engine,
        logger: owned.logger,
        name: owned.name,
        kubeconfigPath: owned.mode.kind === 'file' ? owned.mode.path : undefined,
      }),
  );
  if (owned.privateDir !== undefined) {
    await rm(owned.privateDir, { recursive: true, force: true });
    return { ...result, kubeconfigEntryRemoved: true };
  }
  return result;
}
