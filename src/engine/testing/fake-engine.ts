import { Readable } from 'node:stream';
import { packEntries, readEntries } from '../../util/archive.js';
import { KurError } from '../../util/errors.js';
import type {
  ContainerInfo,
  ContainerSpec,
  ContainerSummary,
  Engine,
  ExecOptions,
  ExecResult,
  ImageInfo,
  LabelFilter,
  Labels,
  NetworkInfo,
  NetworkSpec,
  VolumeInfo,
} from '../types.js';

/**
 * An in-memory engine for unit tests of the core (create, rollback, delete, stop/start): it keeps
 * containers, networks and volumes with their labels, enforces unique names as real engines do
 * (409), assigns static addresses, keeps files written through the archive API, and answers exec
 * through a handler the test supplies. Every mutating call is recorded in `calls`.
 */
export interface FakeContainer {
  id: string;
  spec: ContainerSpec;
  state: 'created' | 'running' | 'exited';
  files: Map<string, Buffer>;
  created: number;
}

export type ExecHandler = (
  container: FakeContainer,
  options: ExecOptions,
) => ExecResult | Promise<ExecResult>;

export interface FakeEngineOptions {
  /** Images the engine has, by reference. */
  images?: Record<string, Partial<ImageInfo>>;
  /** Images a pull can fetch, by reference; a pull of anything else fails like an unknown manifest. */
  registry?: Record<string, Partial<ImageInfo>>;
  /** Files every container starts with (what the image and its entrypoint put there). */
  imageFiles?: Record<string, string>;
  exec?: ExecHandler;
  provider?: 'docker' | 'podman';
}

const ok: ExecResult = { exitCode: 0, stdout: '', stderr: '' };

function matches(labels: Labels, filter: LabelFilter | undefined): boolean {
  return Object.entries(filter ?? {}).every(([k, v]) => (v === true ? k in labels : labels[k] === v));
}

function notFound(what: string): KurError {
  return new KurError('notFound', `no such ${what}`);
}

export class FakeEngine implements Engine {
  readonly calls: string[] = [];
  readonly containersById = new Map<string, FakeContainer>();
  readonly networksByName = new Map<string, { id: string; spec: NetworkSpec }>();
  readonly volumesByName = new Map<string, VolumeInfo>();
  /** Set to make the next calls of a kind fail: `failOn.set('start', error)`. */
  readonly failOn = new Map<string, Error>();
  private nextId = 1;

  readonly endpoint: Engine['endpoint'];

  /** References pulled and pushed, in order. */
  readonly pulled: string[] = [];
  readonly pushed: string[] = [];

  constructor(private readonly options: FakeEngineOptions = {}) {
    this.endpoint = {
      source: 'KUR_HOST',
      sourceDescription: 'fake',
      address: 'unix:///fake.sock',
      connection: { kind: 'unix', socketPath: '/fake.sock' },
      provider: options.provider ?? 'docker',
      version: '0.0.0',
      apiVersion: '1.41',
      versionPayload: {},
    };
  }

  private record(call: string, kind: string): void {
    this.calls.push(call);
    const failure = this.failOn.get(kind);
    if (failure !== undefined) throw failure;
  }

  find(nameOrId: string): FakeContainer {
    const found =
      this.containersById.get(nameOrId) ??
      [...this.containersById.values()].find((c) => c.spec.name === nameOrId);
    if (found === undefined) throw notFound(`container ${nameOrId}`);
    return found;
  }

  private summary(c: FakeContainer): ContainerSummary {
    return {
      id: c.id,
      name: c.spec.name,
      image: c.spec.image,
      state: c.state,
      status: c.state,
      labels: { ...(c.spec.labels ?? {}) },
      created: c.created,
    };
  }

  readonly containers: Engine['containers'] = {
    create: (spec) => {
      this.record(`create ${spec.name}`, 'create');
      if (!(spec.image in (this.options.images ?? {})))
        return Promise.reject(notFound(`image ${spec.image}`));
      if ([...this.containersById.values()].some((c) => c.spec.name === spec.name)) {
        return Promise.reject(new KurError('conflict', `the name ${spec.name} is in use`));
      }
      const id = `c${this.nextId++}`;
      const files = new Map(
        Object.entries(this.options.imageFiles ?? {}).map(([p, t]) => [p, Buffer.from(t)]),
      );
      this.containersById.set(id, { id, spec, state: 'created', files, created: this.nextId });
      return Promise.resolve(id);
    },
    start: (id) => {
      this.record(`start ${this.find(id).spec.name}`, 'start');
      this.find(id).state = 'running';
      return Promise.resolve();
    },
    stop: (id) => {
      this.record(`stop ${this.find(id).spec.name}`, 'stop');
      this.find(id).state = 'exited';
      return Promise.resolve();
    },
    kill: (id) => {
      const c = this.find(id);
      this.record(`kill ${c.spec.name}`, 'kill');
      if (c.state !== 'running')
        return Promise.reject(new KurError('conflict', `${c.spec.name} is not running`));
      c.state = 'exited';
      return Promise.resolve();
    },
    remove: (id) => {
      const c = this.find(id);
      this.record(`remove ${c.spec.name}`, 'remove');
      this.containersById.delete(c.id);
      return Promise.resolve();
    },
    inspect: (id) => Promise.resolve(this.info(this.find(id))),
    list: (options = {}) =>
      Promise.resolve(
        [...this.containersById.values()]
          .filter((c) => matches(c.spec.labels ?? {}, options.labels))
          .filter((c) => options.all !== false || c.state === 'running')
          .map((c) => this.summary(c)),
      ),
    wait: () => Promise.resolve(0),
    logs: () => Promise.resolve({ stdout: '', stderr: '' }),
    exec: async (id, options) => {
      const c = this.find(id);
      this.record(`exec ${c.spec.name} ${options.cmd.join(' ')}`, 'exec');
      if (c.state !== 'running') throw new KurError('conflict', `${c.spec.name} is not running`);
      const result = (await this.options.exec?.(c, options)) ?? ok;
      if (options.check === true && result.exitCode !== 0) {
        throw new KurError('command', `${options.cmd.join(' ')} failed`, { detail: result.stderr });
      }
      return result;
    },
    putArchive: async (id, path, tar) => {
      const c = this.find(id);
      this.record(`putArchive ${c.spec.name}`, 'putArchive');
      const stream = Buffer.isBuffer(tar) ? Readable.from([tar]) : tar;
      for (const entry of await readEntries(stream, 64 * 1024 * 1024)) {
        if (entry.type === 'file')
          c.files.set(`${path.replace(/\/$/, '')}/${entry.path}`.replace(/^\/+/, '/'), entry.content);
      }
    },
    getArchive: (id, path) => {
      const content = this.find(id).files.get(path);
      if (content === undefined) return Promise.reject(notFound(`file ${path}`));
      const name = path.split('/').pop()!;
      return Promise.resolve(packEntries([{ type: 'file', path: name, content, mode: 0o644 }]));
    },
  };

  private info(c: FakeContainer): ContainerInfo {
    const network = c.spec.network;
    const published = (c.spec.ports ?? []).map((p) => ({
      containerPort: p.containerPort,
      protocol: p.protocol ?? 'tcp',
      hostIp: p.hostIp ?? '',
      hostPort: p.hostPort ?? 0,
    }));
    return {
      id: c.id,
      name: c.spec.name,
      image: c.spec.image,
      imageId: c.spec.image,
      created: new Date(c.created).toISOString(),
      hostname: c.spec.hostname ?? c.spec.name,
      labels: { ...(c.spec.labels ?? {}) },
      state: {
        status: c.state,
        running: c.state === 'running',
        exitCode: 0,
        pid: 1,
        error: '',
        oomKilled: false,
        startedAt: '',
        finishedAt: '',
      },
      restartCount: 0,
      networks:
        network === undefined
          ? {}
          : {
              [network.name]: {
                networkId: network.name,
                ipv4Address: network.ipv4Address ?? '',
                ipv4PrefixLength: 16,
                ipv6Address: '',
                gateway: '',
                macAddress: '',
                aliases: network.aliases ?? [],
              },
            },
      ports: published,
      portBindings: published,
      mounts: [],
      privileged: c.spec.privileged ?? false,
      capAdd: c.spec.capAdd ?? [],
      securityOpt: c.spec.securityOpt ?? [],
      cgroupnsMode: c.spec.cgroupnsMode ?? 'private',
      restartPolicy: c.spec.restartPolicy?.name ?? 'no',
    };
  }

  readonly networks: Engine['networks'] = {
    create: (spec) => {
      this.record(`network create ${spec.name}`, 'networkCreate');
      if (this.networksByName.has(spec.name))
        return Promise.reject(new KurError('conflict', 'network exists'));
      const id = `n${this.nextId++}`;
      this.networksByName.set(spec.name, { id, spec });
      return Promise.resolve(id);
    },
    remove: (name) => {
      this.record(`network remove ${name}`, 'networkRemove');
      if (!this.networksByName.delete(name)) return Promise.reject(notFound(`network ${name}`));
      return Promise.resolve();
    },
    inspect: (name) => {
      const n = this.networksByName.get(name);
      return n === undefined
        ? Promise.reject(notFound(`network ${name}`))
        : Promise.resolve(this.networkInfo(n));
    },
    list: () => Promise.resolve([...this.networksByName.values()].map((n) => this.networkInfo(n))),
    connect: () => Promise.resolve(),
    disconnect: () => Promise.resolve(),
  };

  private networkInfo({ id, spec }: { id: string; spec: NetworkSpec }): NetworkInfo {
    const attached = [...this.containersById.values()].filter(
      (c) => c.state === 'running' && c.spec.network?.name === spec.name,
    );
    return {
      id,
      name: spec.name,
      driver: spec.driver ?? 'bridge',
      labels: { ...(spec.labels ?? {}) },
      subnets: spec.subnet === undefined ? [] : [{ subnet: spec.subnet, gateway: spec.gateway ?? '' }],
      mtu: spec.mtu,
      options: {},
      internal: false,
      containers: Object.fromEntries(
        attached.map((c) => [
          c.id,
          { name: c.spec.name, ipv4Address: `${c.spec.network?.ipv4Address ?? ''}/16` },
        ]),
      ),
    };
  }

  readonly volumes: Engine['volumes'] = {
    create: (spec) => {
      const info = {
        name: spec.name ?? `v${this.nextId++}`,
        driver: 'local',
        labels: spec.labels ?? {},
        mountpoint: '',
      };
      this.volumesByName.set(info.name, info);
      return Promise.resolve(info);
    },
    inspect: (name) => {
      const v = this.volumesByName.get(name);
      return v === undefined ? Promise.reject(notFound(`volume ${name}`)) : Promise.resolve(v);
    },
    list: (options = {}) =>
      Promise.resolve([...this.volumesByName.values()].filter((v) => matches(v.labels, options.labels))),
    remove: (name) => {
      this.volumesByName.delete(name);
      return Promise.resolve();
    },
  };

  readonly images: Engine['images'] = {
    inspect: (reference) => {
      const image = this.options.images?.[reference];
      if (image === undefined) return Promise.reject(notFound(`image ${reference}`));
      return Promise.resolve({
        id: `sha256:${reference}`,
        repoTags: [reference],
        labels: {},
        size: 0,
        created: '',
        architecture: 'amd64',
        os: 'linux',
        entrypoint: [],
        cmd: [],
        env: [],
        ...image,
      });
    },
    pull: (reference, options = {}) => {
      this.pulled.push(reference);
      const image = this.options.registry?.[reference];
      if (image === undefined)
        return Promise.reject(
          new KurError('engine', `cannot pull image "${reference}"`, { detail: 'manifest unknown' }),
        );
      (this.options.images ??= {})[reference] = image;
      options.onProgress?.({ layers: 1, layersDone: 1, bytes: 1, totalBytes: 1 });
      return Promise.resolve({ digest: `sha256:${'0'.repeat(64)}` });
    },
    push: (reference) => {
      this.pushed.push(reference);
      return Promise.resolve({ digest: `sha256:${'0'.repeat(64)}` });
    },
    load: () => Promise.resolve([]),
    save: () => Promise.resolve(Readable.from([])),
    tag: () => Promise.resolve(),
    remove: () => Promise.resolve(),
    list: () => Promise.resolve([]),
  };

  readonly system: Engine['system'] = {
    ping: () => Promise.resolve(),
    version: () => Promise.resolve({}),
    info: () => Promise.resolve({}),
    libpodInfo: () => Promise.resolve(undefined),
  };

  close(): void {}

  /** Containers by name, for assertions. */
  names(filter?: LabelFilter): string[] {
    return [...this.containersById.values()]
      .filter((c) => matches(c.spec.labels ?? {}, filter))
      .map((c) => c.spec.name)
      .sort();
  }
}
