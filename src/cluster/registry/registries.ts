import { get } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { withEngineLock } from '../engine-lock.js';
import { Rollback } from '../rollback.js';
import { chooseHostPort, freeHostPort, takenHostPorts } from '../host-ports.js';
import { ensureClusterNetwork, readHostRoutes, removeClusterNetworkIfUnused } from '../network.js';
import { defaultRegistryName, registryNameHint, registryNameProblem } from '../../config/names.js';
import { detectEngine } from '../../engine/detect.js';
import { labels } from '../../engine/labels.js';
import type { ContainerSummary, Engine } from '../../engine/types.js';
import type { LocalRegistry } from '../../kube/containerd.js';
import { isKurError, KurError, messageOf } from '../../util/errors.js';
import type { Logger } from '../../util/logger.js';
import { ensureRegistryImage } from './image.js';
import {
  clustersUsing,
  localRegistry,
  registryContainerSpec,
  registryFromContainer,
  registryHostIp,
  registryRole,
  registryVolumeName,
  type RegistryRecord,
} from './spec.js';

/**
 * `kur create|delete|get registry`: a Distribution registry container per name, published on
 * 127.0.0.1:<port>, on the kur network, its images in a named volume. Clusters created with
 * `registries: [name]` pull `localhost:<port>/…` through it (see registryHostsFiles).
 */
export interface RegistryCallOptions {
  engine: Engine;
  logger: Logger;
  env: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  onStatus?: (text: string) => void;
}

export interface CreateRegistryOptions extends RegistryCallOptions {
  name?: string;
  /** Host port on 127.0.0.1; default 5000 when free, else a free one. */
  port?: number;
}

/** The port registries are usually pushed to; taken when free. */
const preferredPort = 5000;

function registryContainers(engine: Engine): Promise<ContainerSummary[]> {
  return engine.containers.list({ labels: { [labels.role]: registryRole, [labels.registry]: true } });
}

export async function listRegistries(engine: Engine): Promise<RegistryRecord[]> {
  return (await registryContainers(engine))
    .flatMap((c) => registryFromContainer(c) ?? [])
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** The named registries, each as nodes see it; a missing one fails before anything is created. */
export async function findRegistries(engine: Engine, names: readonly string[]): Promise<LocalRegistry[]> {
  if (names.length === 0) return [];
  const found = new Map((await listRegistries(engine)).map((r) => [r.name, r]));
  const missing = names.filter((n) => !found.has(n));
  if (missing.length > 0) {
    throw new KurError('notFound', `no local registry named ${missing.map((n) => `"${n}"`).join(', ')}`, {
      hint: `Create it first with \`kur create registry --name ${missing[0]}\`, or remove it from registries.`,
    });
  }
  return names.map((n) => localRegistry(found.get(n)!));
}

/** A host port from 1 to 65535; `text` is what the user wrote, for the error. */
export function validateRegistryPort(port: number | undefined, text = String(port)): void {
  if (port === undefined) return;
  if (!Number.isInteger(port) || port < 1 || port > 65_535) {
    throw new KurError('usage', `--port ${text} is not a port number`, {
      hint: 'Use a port from 1024 to 65535.',
    });
  }
}

export async function createRegistry(options: CreateRegistryOptions): Promise<RegistryRecord> {
  const { engine, logger } = options;
  const name = options.name ?? defaultRegistryName;
  const problem = registryNameProblem(name);
  if (problem !== undefined) throw new KurError('usage', problem, { hint: registryNameHint });
  validateRegistryPort(options.port);
  await assertNameFree(engine, name);
  const image = await ensureRegistryImage(options);
  const info = await detectEngine(engine, { logger });
  const local = engine.endpoint.connection.kind === 'unix';
  const rollback = new Rollback();
  try {
    const id = await withEngineLock(engine, { image, logger, ...signalOf(options) }, async () => {
      await assertNameFree(engine, name);
      const network = await ensureClusterNetwork(engine, {
        mtu: info.bridgeMtu,
        logger,
        ...(local && !info.rootless ? { hostRoutes: readHostRoutes } : {}),
      });
      if (network.created) rollback.add('the kur network', () => removeNetworkLocked(engine, image, logger));
      const hostPort = await chooseRegistryPort(engine, options.port, local);
      const volume = registryVolumeName(name);
      await engine.volumes.create({ name: volume, labels: { [labels.registry]: name } });
      rollback.add(`volume ${volume}`, () => engine.volumes.remove(volume, { force: true }));
      const created = await engine.containers.create(registryContainerSpec(name, image, hostPort));
      rollback.add(`container ${name}`, () =>
        engine.containers.remove(created, { force: true, volumes: true }),
      );
      return created;
    });
    options.onStatus?.(`starting ${name}`);
    await engine.containers.start(id);
    const record = registryFromContainer(await summary(engine, id));
    if (record === undefined) throw new KurError('internal', `registry container ${name} lost its labels`);
    if (local) await waitServing(engine, id, record, options.signal);
    return { ...record, state: 'running' };
  } catch (error) {
    for (const failure of await rollback.run(logger)) logger.warn(`could not remove ${failure}`);
    throw error;
  }
}

function signalOf(options: { signal?: AbortSignal }): { signal?: AbortSignal } {
  return options.signal !== undefined ? { signal: options.signal } : {};
}

async function summary(engine: Engine, id: string): Promise<ContainerSummary> {
  const found = (await registryContainers(engine)).find((c) => c.id === id);
  if (found === undefined) throw new KurError('notFound', `registry container ${id.slice(0, 12)} vanished`);
  return found;
}

async function assertNameFree(engine: Engine, name: string): Promise<void> {
  const taken = await engine.containers.inspect(name).then(
    () => true,
    (error: unknown) => {
      if (isKurError(error, 'notFound')) return false;
      throw error;
    },
  );
  const volume = await engine.volumes.inspect(registryVolumeName(name)).then(
    () => true,
    (error: unknown) => {
      if (isKurError(error, 'notFound')) return false;
      throw error;
    },
  );
  if (taken || volume) {
    throw new KurError(
      'conflict',
      `a container or volume named "${taken ? name : registryVolumeName(name)}" exists already`,
      { hint: `Choose another --name, or \`kur delete registry --name ${name}\` if it is kur's.` },
    );
  }
}

/** The user's port when nobody holds it, else 5000 when free, else any free port; under the engine lock. */
async function chooseRegistryPort(
  engine: Engine,
  wanted: number | undefined,
  local: boolean,
): Promise<number> {
  const taken = await takenHostPorts(engine);
  if (wanted !== undefined) {
    const free = !taken.has(wanted) && (!local || (await freeHostPort(registryHostIp, wanted)) === wanted);
    if (!free) {
      throw new KurError('conflict', `host port ${wanted} on ${registryHostIp} is in use`, {
        hint: 'Choose another --port, or leave it out to get a free one.',
      });
    }
    return wanted;
  }
  if (
    !taken.has(preferredPort) &&
    (!local || (await freeHostPort(registryHostIp, preferredPort)) === preferredPort)
  )
    return preferredPort;
  return chooseHostPort(registryHostIp, taken, local);
}

/** Until the registry answers `/v2/` on its host port (a few hundred milliseconds), at most 15 s. */
async function waitServing(
  engine: Engine,
  id: string,
  record: RegistryRecord,
  signal: AbortSignal | undefined,
): Promise<void> {
  const deadline = Date.now() + 15_000;
  let last = '';
  while (Date.now() < deadline) {
    signal?.throwIfAborted();
    try {
      const status = await httpStatus(`http://${registryHostIp}:${record.hostPort}/v2/`, 2_000);
      if (status === 200) return;
      last = `HTTP ${status}`;
    } catch (error) {
      last = messageOf(error);
    }
    const state = await engine.containers.inspect(id);
    if (!state.state.running) {
      const logs = await engine.containers.logs(id, { tail: 20 }).catch(() => ({ stdout: '', stderr: '' }));
      throw new KurError('engine', `registry ${record.name} exited at start (code ${state.state.exitCode})`, {
        detail: `${logs.stdout}${logs.stderr}`.trim(),
      });
    }
    await sleep(200);
  }
  throw new KurError(
    'timeout',
    `registry ${record.name} did not answer on ${registryHostIp}:${record.hostPort}`,
    {
      detail: last,
    },
  );
}

export interface DeleteRegistryOptions extends RegistryCallOptions {
  name?: string;
  /** Delete even when clusters pull through it (their pulls of localhost:<port>/… then fail). */
  force?: boolean;
}

export interface DeletedRegistry {
  name: string;
  container: string;
  volume: string;
  /** Clusters that pulled through it (only with `force`). */
  usedBy: string[];
  networkRemoved: boolean;
}

/**
 * Removes a registry's container and its volume (the images in it). Refused while a cluster's
 * nodes pull through it, unless `force`.
 */
export async function deleteRegistry(options: DeleteRegistryOptions): Promise<DeletedRegistry> {
  const { engine, logger } = options;
  const name = options.name ?? defaultRegistryName;
  const container = (await registryContainers(engine)).find((c) => c.labels[labels.registry] === name);
  if (container === undefined) {
    throw new KurError('notFound', `no local registry named "${name}"`, {
      hint: 'List them with `kur get registries`.',
    });
  }
  const usedBy = clustersUsing(name, await engine.containers.list({ labels: { [labels.registries]: true } }));
  if (usedBy.length > 0 && options.force !== true) {
    throw new KurError('conflict', `registry "${name}" is used by cluster(s) ${usedBy.join(', ')}`, {
      hint: `Delete those clusters first, or pass --force (their nodes then fail to pull localhost:${container.labels[labels.registryPort]}/… images they do not have).`,
    });
  }
  if (usedBy.length > 0)
    logger.warn(`deleting registry "${name}", which cluster(s) ${usedBy.join(', ')} pull through`);
  await engine.containers.remove(container.id, { force: true, volumes: true });
  const volume = registryVolumeName(name);
  await engine.volumes.remove(volume, { force: true }).catch((error: unknown) => {
    if (!isKurError(error, 'notFound')) throw error;
  });
  const networkRemoved = await removeNetworkLocked(engine, container.image, logger);
  return { name, container: container.name, volume, usedBy, networkRemoved };
}

function removeNetworkLocked(engine: Engine, image: string, logger: Logger): Promise<boolean> {
  return withEngineLock(engine, { image, logger }, () => removeClusterNetworkIfUnused(engine, logger));
}

/**
 * The status of a GET, with node:http rather than fetch: a fetch whose connection the engine's port
 * proxy accepts and then drops, while the registry starts, was seen to leave nothing holding
 * the process open (it exited 13 with the promise unsettled).
 */
function httpStatus(url: string, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = get(url, { timeout: timeoutMs }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    request.on('timeout', () => request.destroy(new Error(`no answer in ${timeoutMs} ms`)));
    request.on('error', reject);
  });
}

/**
 * Starts the stopped local registries a cluster's nodes pull through, for `kur start cluster`
 * (an engine without a restart service, rootless Podman here, leaves them stopped after its own
 * restart). One that cannot start is a warning: the cluster runs, only its pulls from it fail.
 */
export async function startRegistriesOf(
  engine: Engine,
  nodes: readonly ContainerSummary[],
  logger: Logger,
): Promise<void> {
  const names = new Set(nodes.flatMap((n) => (n.labels[labels.registries] ?? '').split(',')));
  names.delete('');
  if (names.size === 0) return;
  for (const c of await registryContainers(engine)) {
    if (c.state === 'running' || !names.has(c.labels[labels.registry] ?? '')) continue;
    try {
      await engine.containers.start(c.id);
    } catch (error) {
      logger.warn(`local registry ${c.name} did not start: ${messageOf(error)}`);
    }
  }
}
