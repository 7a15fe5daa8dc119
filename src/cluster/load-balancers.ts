import { setTimeout as sleep } from 'node:timers/promises';
import { labels } from '../engine/labels.js';
import type { ContainerSummary, Engine } from '../engine/types.js';
import { KubeApiError, KubeClient, type WatchEvent } from '../kube/api-client.js';
import { KurError, messageOf } from '../util/errors.js';
import type { Logger } from '../util/logger.js';
import { clusterContainers, clusterCredentials } from './clusters.js';
import { killAndRemove } from './delete.js';
import { withEngineLock } from './engine-lock.js';
import { chooseHostPort, freeHostPort, takenHostPorts } from './host-ports.js';
import {
  loadBalancerHostIp,
  loadBalancerSpec,
  planLoadBalancerChanges,
  preferredHostPort,
  recordFromLabels,
  serviceKey,
  servicePatches,
  serviceLoadBalancerRole,
  type ExistingLoadBalancer,
  type KubeService,
  type LoadBalancerPort,
  type LoadBalancerRecord,
  type WantedLoadBalancer,
} from './service-load-balancer.js';

/**
 * `kur serve load-balancers`: a controller on the host, in the foreground, that gives every
 * Service of type LoadBalancer of one cluster a load-balancer container (kur-lb in the node
 * image) publishing its ports on 127.0.0.1, and reports the address in the Service's status.
 * It watches Services through the API server's published port with the cluster's admin
 * credentials, reconciles on every event and every `resyncMs`, and returns when `signal` aborts.
 * The containers outlive it (restart policy unless-stopped): addresses keep working while it is
 * not running; only changes wait for it.
 */
export interface ServeLoadBalancersOptions {
  engine: Engine;
  logger: Logger;
  name: string;
  signal: AbortSignal;
  /** Reconcile this often even without events (a container removed by hand comes back). Default 15 s. */
  resyncMs?: number;
}

/** A Service's load balancer as `kur get services` lists it. */
export interface ServiceLoadBalancer {
  namespace: string;
  name: string;
  uid: string;
  container: string;
  /** Engine state of the container: running, exited, ... */
  state: string;
  ports: (LoadBalancerPort & { address: string })[];
}

const servicesPath = '/api/v1/services';

function servicePath(service: KubeService): string {
  const { namespace, name } = service.metadata;
  return `/api/v1/namespaces/${encodeURIComponent(namespace)}/services/${encodeURIComponent(name)}`;
}

function existingLoadBalancers(containers: readonly ContainerSummary[]): ExistingLoadBalancer[] {
  return containers.flatMap((c) => {
    const record = recordFromLabels(c.labels);
    return record === undefined ? [] : [{ id: c.id, name: c.name, state: c.state, record }];
  });
}

function loadBalancerContainers(engine: Engine, cluster: string): Promise<ContainerSummary[]> {
  return engine.containers.list({
    labels: { [labels.cluster]: cluster, [labels.role]: serviceLoadBalancerRole },
  });
}

/** Every Service load balancer of a cluster, from container labels (the controller need not run). */
export async function listServiceLoadBalancers(
  engine: Engine,
  cluster: string,
): Promise<ServiceLoadBalancer[]> {
  await clusterContainers(engine, cluster);
  return existingLoadBalancers(await loadBalancerContainers(engine, cluster))
    .map((e) => ({
      ...e.record.service,
      container: e.name,
      state: e.state,
      ports: e.record.ports.map((p) => ({ ...p, address: `${loadBalancerHostIp}:${p.hostPort}` })),
    }))
    .sort((a, b) => serviceKey(a).localeCompare(serviceKey(b)));
}

export async function serveLoadBalancers(options: ServeLoadBalancersOptions): Promise<void> {
  const { engine, logger, name } = options;
  const { nodes } = await clusterContainers(engine, name);
  if (!allRunning(nodes)) {
    throw new KurError('conflict', `cluster "${name}" is not running`, {
      hint: `Start it with \`kur start cluster --name ${name}\`.`,
    });
  }
  const backends = nodes.map((n) => n.labels[labels.ipv4] ?? '').filter((ip) => ip !== '');
  if (backends.length !== nodes.length) {
    throw new KurError('conflict', `the nodes of cluster "${name}" have no static addresses`, {
      hint: 'The cluster was made by an older kur; re-create it.',
    });
  }
  const image = nodes[0]!.image;
  const client = new KubeClient(await clusterCredentials(engine, name, { internal: false }));
  const controller = new Controller({ ...options, client, image, backends: backends.sort() });
  logger.info(
    `serving Services of type LoadBalancer of cluster "${name}" on ${loadBalancerHostIp} (Ctrl-C to stop)`,
  );
  const timer = setInterval(() => controller.trigger(), options.resyncMs ?? 15_000);
  try {
    await controller.watch();
  } finally {
    clearInterval(timer);
    await controller.idle();
  }
  logger.info(`stopped serving load balancers of cluster "${name}"; their containers keep running`);
}

function allRunning(nodes: readonly ContainerSummary[]): boolean {
  return nodes.every((n) => n.state === 'running');
}

interface ControllerOptions extends ServeLoadBalancersOptions {
  client: KubeClient;
  image: string;
  backends: string[];
}

class Controller {
  /** Services by uid, as the last list and watch events left them. */
  private readonly services = new Map<string, KubeService>();
  private synced = false;
  private pending = false;
  private running: Promise<void> | undefined;
  /** The last skipped-port lines logged per Service, so each is said once. */
  private readonly said = new Map<string, string>();
  private clusterStopped = false;
  private fatal: KurError | undefined;

  constructor(private readonly o: ControllerOptions) {}

  /** Asks for a reconcile; requests that arrive while one runs are folded into the next. */
  trigger(): void {
    if (!this.synced || this.o.signal.aborted) return;
    this.pending = true;
    this.running ??= this.loop().finally(() => {
      this.running = undefined;
      if (this.pending) this.trigger();
    });
  }

  async idle(): Promise<void> {
    await this.running;
  }

  private async loop(): Promise<void> {
    while (this.pending && !this.o.signal.aborted) {
      this.pending = false;
      try {
        await this.reconcile();
      } catch (error) {
        if (this.o.signal.aborted) return;
        if (error instanceof KurError && error.kind === 'notFound') {
          // The cluster was deleted. A load balancer created while the delete ran would outlive it.
          await this.removeAll().catch(() => undefined);
          this.fatal = error;
          return;
        }
        this.o.logger.warn(`reconcile failed (retrying): ${messageOf(error)}`);
      }
    }
  }

  /**
   * Lists Services, then watches from the list's resourceVersion; a watch that ends resumes from
   * the last version seen, one that is too old (410 Gone) or fails lists again. Returns when the
   * signal aborts; rejects when the cluster is deleted.
   */
  async watch(): Promise<void> {
    const { client, logger, signal } = this.o;
    let version: string | undefined;
    let failures = 0;
    while (!signal.aborted) {
      if (this.fatal !== undefined) throw this.fatal;
      try {
        if (version === undefined) {
          const list = await client.get<{ metadata: { resourceVersion: string }; items: KubeService[] }>(
            servicesPath,
            signal,
          );
          this.services.clear();
          for (const s of list.items) this.services.set(s.metadata.uid, s);
          version = list.metadata.resourceVersion;
          this.synced = true;
          this.trigger();
        }
        const path = `${servicesPath}?watch=1&allowWatchBookmarks=true&timeoutSeconds=300&resourceVersion=${version}`;
        await client.watch<KubeService>(path, (event) => (version = this.apply(event) ?? version), {
          signal,
        });
        if (failures > 0) logger.info('watching Services again');
        failures = 0;
      } catch (error) {
        if (signal.aborted) return;
        if (error instanceof KubeApiError && error.status === 410) {
          version = undefined;
          continue;
        }
        if (failures === 0) logger.warn(`lost the Service watch (retrying): ${messageOf(error)}`);
        failures += 1;
        version = undefined;
        this.trigger();
        await sleep(Math.min(1000 * failures, 10_000), undefined, { signal }).catch(() => undefined);
      }
    }
  }

  /** Applies one watch event to the cache; returns the resourceVersion to resume from. */
  private apply(event: WatchEvent<KubeService>): string | undefined {
    if (event.type === 'ERROR') {
      const status = event.object as unknown as { code?: number; message?: string };
      throw new KubeApiError(status.code ?? 0, 'watch Services', status.message ?? '');
    }
    const service = event.object;
    if (event.type === 'DELETED') this.services.delete(service.metadata.uid);
    else if (event.type !== 'BOOKMARK') this.services.set(service.metadata.uid, service);
    if (event.type !== 'BOOKMARK') this.trigger();
    return service.metadata.resourceVersion;
  }

  private async reconcile(): Promise<void> {
    const { engine, logger, name } = this.o;
    const { nodes, containers } = await clusterContainers(engine, name);
    // A stopped cluster's API server cannot be asked; its load balancers stay as they are.
    const stopped = !allRunning(nodes);
    if (stopped !== this.clusterStopped) {
      this.clusterStopped = stopped;
      if (stopped) logger.info(`cluster "${name}" is not running: waiting for it`);
    }
    if (stopped) return;
    const changes = planLoadBalancerChanges(
      [...this.services.values()],
      existingLoadBalancers(containers),
      this.o.backends,
    );
    for (const [key, lines] of changes.skipped) {
      const text = lines.join('; ');
      if (this.said.get(key) !== text) logger.warn(`${key}: ${text}`);
      this.said.set(key, text);
    }
    const recreated = new Set(changes.create.map((w) => w.service.uid));
    for (const old of changes.remove) {
      await killAndRemove(engine, old);
      if (!recreated.has(old.record.service.uid))
        logger.info(`${serviceKey(old.record.service)}: removed its load balancer ${old.name}`);
    }
    const records = new Map<string, LoadBalancerRecord>();
    for (const kept of changes.keep) {
      records.set(kept.record.service.uid, kept.record);
      // Only one that never started (kur stopped between create and start). A stopped one was
      // stopped on purpose, most often by `kur stop cluster` while this reconcile ran.
      if (kept.state === 'created') {
        await engine.containers.start(kept.id).catch((error: unknown) => {
          logger.warn(`${serviceKey(kept.record.service)}: ${kept.name} did not start: ${messageOf(error)}`);
        });
      }
    }
    if (changes.create.length > 0) {
      for (const record of await this.create(changes.create)) records.set(record.service.uid, record);
    }
    await this.report(records);
  }

  private async removeAll(): Promise<void> {
    const { engine, name } = this.o;
    const left = await loadBalancerContainers(engine, name);
    await Promise.all(left.map((c) => killAndRemove(engine, c)));
  }

  /** Chooses host ports and creates the containers under the engine lock, then starts them. */
  private async create(wishes: readonly WantedLoadBalancer[]): Promise<LoadBalancerRecord[]> {
    const { engine, logger, name, image, signal } = this.o;
    const local = engine.endpoint.connection.kind === 'unix';
    const created = await withEngineLock(engine, { image, logger, signal }, async () => {
      // Delete sweeps the cluster's containers once more under this lock after its nodes are
      // gone; checking the nodes here, under it, means a load balancer made while a delete runs
      // is either seen by that sweep or never made.
      if (!allRunning((await clusterContainers(engine, name)).nodes)) return [];
      const taken = await takenHostPorts(engine);
      const out: { id: string; record: LoadBalancerRecord }[] = [];
      for (const wish of wishes) {
        const ports: LoadBalancerPort[] = [];
        for (const p of wish.ports) {
          const hostPort =
            (await this.reusable(p.hostPort, taken, local)) ??
            (await this.reusable(p.port, taken, local)) ??
            (await chooseHostPort(loadBalancerHostIp, taken, local));
          taken.add(hostPort);
          ports.push({ ...p, hostPort });
        }
        const record = { ...wish, ports };
        out.push({ id: await engine.containers.create(loadBalancerSpec(name, image, record)), record });
      }
      return out;
    });
    for (const { id, record } of created) {
      await engine.containers.start(id);
      const addresses = record.ports.map((p) => `${loadBalancerHostIp}:${p.hostPort} -> port ${p.port}`);
      logger.info(`${serviceKey(record.service)}: ${addresses.join(', ')}`);
    }
    return created.map((c) => c.record);
  }

  /** `port` when it is one kur may publish (≥ 1024), nobody holds it and it binds on 127.0.0.1. */
  private async reusable(
    port: number,
    taken: ReadonlySet<number>,
    local: boolean,
  ): Promise<number | undefined> {
    if (preferredHostPort(port, taken, true) === undefined) return undefined;
    const free = !local || (await freeHostPort(loadBalancerHostIp, port)) === port;
    return preferredHostPort(port, taken, free);
  }

  /** Writes status and annotation where they differ from the load balancers; each write is a watch event. */
  private async report(records: ReadonlyMap<string, LoadBalancerRecord>): Promise<void> {
    const { client, logger, signal } = this.o;
    for (const service of [...this.services.values()]) {
      const patches = servicePatches(service, records.get(service.metadata.uid));
      try {
        if (patches.status !== undefined)
          this.update(
            await client.mergePatch<KubeService>(`${servicePath(service)}/status`, patches.status, signal),
          );
        if (patches.metadata !== undefined)
          this.update(await client.mergePatch<KubeService>(servicePath(service), patches.metadata, signal));
      } catch (error) {
        // Deleted meanwhile: its DELETED event follows.
        if (error instanceof KubeApiError && error.status === 404) continue;
        logger.warn(`${serviceKey(service.metadata)}: could not update the Service: ${messageOf(error)}`);
      }
    }
  }

  private update(service: KubeService): void {
    if (this.services.has(service.metadata.uid)) this.services.set(service.metadata.uid, service);
  }
}
