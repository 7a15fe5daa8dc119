import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClusterWithEngine } from '../cluster/create-use-case.js';
import type { CreatedCluster } from '../cluster/create.js';
import { deleteCluster as deleteClusterCore, type DeletedCluster } from '../cluster/delete.js';
import { messageOf } from '../util/errors.js';
import { Cluster } from './cluster-handle.js';
import { silent, throwIfCancelled, withEngine, type Presentation } from './common.js';
import {
  resolveCreateOptions,
  type CreateClusterOptions,
  type ResolvedCreateOptions,
} from './create-options.js';

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
  return createResolved(await resolveCreateOptions(options));
}

/** The create the CLI and the library share: on one engine connection, closed at the end. */
export function createOnEngine(
  resolved: ResolvedCreateOptions,
  presentation: Presentation,
): Promise<{ created: CreatedCluster; host: string | undefined }> {
  throwIfCancelled(resolved.signal, `creating cluster ${resolved.config.name}`);
  return withEngine(resolved.engine, async (engine) => {
    // Delete goes to the engine the cluster is on, even if the search would find another later.
    const host = engine.endpoint.connection.kind === 'unix' ? engine.endpoint.address : resolved.engine.host;
    const created = await createClusterWithEngine({
      engine,
      config: resolved.config,
      ...(resolved.image !== undefined ? { image: resolved.image } : {}),
      waitMs: resolved.waitMs,
      retain: resolved.retain,
      kubeconfigPath: resolved.kubeconfig.kind === 'file' ? resolved.kubeconfig.path : undefined,
      logger: resolved.engine.logger,
      renderer: presentation.renderer,
      ...(resolved.onEvent !== undefined ? { onEvent: resolved.onEvent } : {}),
      ...(resolved.signal !== undefined ? { signal: resolved.signal } : {}),
      env: resolved.engine.env,
    });
    return { created, host };
  });
}

/**
 * `createCluster` once its options are resolved: the action resolves them first, to learn the
 * cluster's name before anything exists.
 */
export async function createResolved(resolved: ResolvedCreateOptions): Promise<Cluster> {
  const { created, host } = await createOnEngine(resolved, silent);
  const engine = { ...resolved.engine, ...(host !== undefined ? { host } : {}) };
  const owned: Owned = { engine, name: created.name, resolved, privateDir: undefined };
  let kubeconfigPath = created.kubeconfigPath;
  if (resolved.kubeconfig.kind === 'private') {
    try {
      owned.privateDir = await mkdtemp(join(tmpdir(), `kur-${created.name}-`));
      kubeconfigPath = join(owned.privateDir, 'kubeconfig');
      await writeFile(kubeconfigPath, created.kubeconfig, { mode: 0o600 });
    } catch (error) {
      // The caller never gets a handle, so nothing else would delete the cluster.
      await removeCluster(owned).catch((cleanup: unknown) =>
        engine.logger.warn(
          `could not delete cluster ${created.name} after a failed kubeconfig write: ${messageOf(cleanup)}`,
        ),
      );
      throw error;
    }
  }
  return new Cluster({ ...created, kubeconfigPath, host }, () => removeCluster(owned), engine);
}

interface Owned {
  engine: ResolvedCreateOptions['engine'];
  name: string;
  resolved: ResolvedCreateOptions;
  privateDir: string | undefined;
}

/** Deletes the cluster on its engine, then the kubeconfig the handle owns. */
async function removeCluster(owned: Owned): Promise<DeletedCluster> {
  const mode = owned.resolved.kubeconfig;
  const result = await withEngine(owned.engine, (engine) =>
    deleteClusterCore({
      engine,
      logger: owned.engine.logger,
      name: owned.name,
      kubeconfigPath: mode.kind === 'file' ? mode.path : undefined,
    }),
  );
  if (owned.privateDir !== undefined) {
    await rm(owned.privateDir, { recursive: true, force: true });
    return { ...result, kubeconfigEntryRemoved: true };
  }
  return result;
}
