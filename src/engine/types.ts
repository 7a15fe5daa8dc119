import type { Readable } from 'node:stream';

/**
 * kur's own view of a container engine. Only src/engine/docker-api.ts talks to the engine (with the
 * pure wire mappings in api-mapping.ts and podman-spec.ts); everything else (node provisioning, image loading, detection) talks to this interface,
 * so it can be faked in unit tests and stays the same for Docker and Podman.
 */

export type Provider = 'docker' | 'podman';

export type Labels = Record<string, string>;

/** A label filter: `{ 'dev.kur.cluster': 'a' }` matches key=value, `{ 'dev.kur.test': true }` the key alone. */
export type LabelFilter = Record<string, string | true>;

export type MountPropagation = 'private' | 'rprivate' | 'shared' | 'rshared' | 'slave' | 'rslave';

export type MountSpec =
  | {
      type: 'bind';
      source: string;
      target: string;
      readOnly?: boolean;
      propagation?: MountPropagation;
    }
  | {
      /** A named volume; without `source` an anonymous one, removed with the container (`volumes: true`). */
      type: 'volume';
      source?: string;
      target: string;
      readOnly?: boolean;
      /**
       * Labels for a volume the engine creates for this mount. Docker applies them; Podman has no
       * field for them: create the volume with `volumes.create` when it must carry labels on both.
       */
      labels?: Labels;
    };

export interface DeviceMapping {
  hostPath: string;
  containerPath?: string;
  /** cgroup permissions, default `rwm`. */
  permissions?: string;
}

export type PortProtocol = 'tcp' | 'udp' | 'sctp';

export interface PortBinding {
  containerPort: number;
  protocol?: PortProtocol;
  /** Host address to listen on; `127.0.0.1` keeps a port off the network. */
  hostIp?: string;
  /** 0 or absent: the engine picks a free port (read it back with `inspect`). */
  hostPort?: number;
}

export interface NetworkAttachment {
  name: string;
  aliases?: string[];
  ipv4Address?: string;
  ipv6Address?: string;
}

export interface RestartPolicy {
  name: 'no' | 'always' | 'unless-stopped' | 'on-failure';
  maximumRetryCount?: number;
}

export interface Ulimit {
  name: string;
  soft: number;
  hard: number;
}

export interface LogConfig {
  type: string;
  config?: Record<string, string>;
}

/** Everything kur sets on a container it creates. Absent fields keep the engine's defaults. */
export interface ContainerSpec {
  name: string;
  image: string;
  hostname?: string;
  domainname?: string;
  labels?: Labels;
  env?: Record<string, string>;
  entrypoint?: string[];
  cmd?: string[];
  workingDir?: string;
  user?: string;
  tty?: boolean;
  openStdin?: boolean;
  privileged?: boolean;
  capAdd?: string[];
  capDrop?: string[];
  securityOpt?: string[];
  devices?: DeviceMapping[];
  deviceCgroupRules?: string[];
  /** Paths the engine masks in /proc and /sys; [] masks none (what `systempaths=unconfined` means). */
  maskedPaths?: string[];
  /** Paths the engine mounts read-only in /proc; [] for none. */
  readonlyPaths?: string[];
  /** Mount point -> mount options (`rw,nosuid,size=64m`, or '' for defaults). */
  tmpfs?: Record<string, string>;
  mounts?: MountSpec[];
  ports?: PortBinding[];
  network?: NetworkAttachment;
  restartPolicy?: RestartPolicy;
  cgroupnsMode?: 'private' | 'host';
  /** Run an init process (tini/catatonit) as PID 1. */
  init?: boolean;
  /** Maximum number of processes; -1 for unlimited (Podman's default of 2048 is too low for a node). */
  pidsLimit?: number;
  memoryBytes?: number;
  nanoCpus?: number;
  logConfig?: LogConfig;
  stopSignal?: string;
  stopTimeoutSeconds?: number;
  sysctls?: Record<string, string>;
  ulimits?: Ulimit[];
  usernsMode?: string;
  /** `host` shares the engine host's PID namespace. */
  pidMode?: string;
  shmSizeBytes?: number;
  readonlyRootfs?: boolean;
  extraHosts?: string[];
  autoRemove?: boolean;
}

export interface ContainerState {
  status: string;
  running: boolean;
  exitCode: number;
  pid: number;
  error: string;
  oomKilled: boolean;
  startedAt: string;
  finishedAt: string;
}

export interface ContainerNetworkInfo {
  networkId: string;
  ipv4Address: string;
  ipv4PrefixLength: number;
  ipv6Address: string;
  gateway: string;
  macAddress: string;
  aliases: string[];
}

/** A published port as the engine reports it (host ports the engine picked are filled in). */
export interface PublishedPort {
  containerPort: number;
  protocol: PortProtocol;
  hostIp: string;
  hostPort: number;
}

export interface ContainerMountInfo {
  type: string;
  name: string;
  source: string;
  destination: string;
  readOnly: boolean;
  propagation: string;
}

export interface ContainerInfo {
  id: string;
  name: string;
  image: string;
  imageId: string;
  created: string;
  hostname: string;
  labels: Labels;
  state: ContainerState;
  restartCount: number;
  networks: Record<string, ContainerNetworkInfo>;
  /** Ports published now (a stopped container has none). */
  ports: PublishedPort[];
  /** Ports the container was created to publish, also while it is stopped (`HostConfig.PortBindings`). */
  portBindings: PublishedPort[];
  mounts: ContainerMountInfo[];
  privileged: boolean;
  capAdd: string[];
  securityOpt: string[];
  cgroupnsMode: string;
  restartPolicy: string;
}

export interface ContainerSummary {
  id: string;
  name: string;
  image: string;
  state: string;
  status: string;
  labels: Labels;
  created: number;
}

export interface ListContainersOptions {
  labels?: LabelFilter;
  /** Include stopped containers (default true: kur cares about everything it created). */
  all?: boolean;
}

export interface RemoveContainerOptions {
  force?: boolean;
  /** Also remove anonymous volumes. */
  volumes?: boolean;
}

export type WaitCondition = 'not-running' | 'next-exit' | 'removed';

export interface ContainerLogs {
  stdout: string;
  stderr: string;
}

export interface LogsOptions {
  /** Last N lines only. */
  tail?: number;
  /** Unix seconds. */
  since?: number;
  timestamps?: boolean;
}

export interface ExecOptions {
  cmd: string[];
  env?: Record<string, string>;
  user?: string;
  workingDir?: string;
  privileged?: boolean;
  /** Written to the command's stdin, which is then closed. */
  stdin?: string | Buffer | Readable;
  /** Give up after this long: the call fails with a 'timeout' KurError. */
  timeoutMs?: number;
  /** Streams output as it arrives (progress of a long command). */
  onOutput?: (stream: 'stdout' | 'stderr', chunk: Buffer) => void;
  /** Throw a 'command' KurError when the exit code is not 0 (default false: the caller decides). */
  check?: boolean;
}

export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface ContainerOperations {
  /** Creates a container and returns its ID. */
  create(spec: ContainerSpec): Promise<string>;
  start(id: string): Promise<void>;
  stop(id: string, options?: { timeoutSeconds?: number }): Promise<void>;
  kill(id: string, signal?: string): Promise<void>;
  remove(id: string, options?: RemoveContainerOptions): Promise<void>;
  inspect(id: string): Promise<ContainerInfo>;
  list(options?: ListContainersOptions): Promise<ContainerSummary[]>;
  /** Blocks until the condition holds and returns the exit code. */
  wait(id: string, condition?: WaitCondition): Promise<number>;
  logs(id: string, options?: LogsOptions): Promise<ContainerLogs>;
  exec(id: string, options: ExecOptions): Promise<ExecResult>;
  /** Extracts a tar stream into directory `path` of the container; modes and owners of entries are kept. */
  putArchive(id: string, path: string, tar: Readable | Buffer): Promise<void>;
  /** A tar stream of `path` (a file or a directory, named by its base name inside the archive). */
  getArchive(id: string, path: string): Promise<Readable>;
}

export interface NetworkSpec {
  name: string;
  driver?: string;
  subnet?: string;
  gateway?: string;
  /** Part of `subnet` the engine allocates dynamic addresses from; static ones may lie outside it. */
  ipRange?: string;
  ipv6Subnet?: string;
  mtu?: number;
  labels?: Labels;
  /** Driver options, passed through as given. */
  options?: Record<string, string>;
  internal?: boolean;
}

export interface NetworkInfo {
  id: string;
  name: string;
  driver: string;
  labels: Labels;
  subnets: { subnet: string; gateway: string }[];
  /** MTU when the engine reports one (Docker: only when it was set). */
  mtu: number | undefined;
  options: Record<string, string>;
  internal: boolean;
  /** Container ID -> attachment. */
  containers: Record<string, { name: string; ipv4Address: string }>;
}

export interface NetworkOperations {
  /** Creates a network and returns its ID. */
  create(spec: NetworkSpec): Promise<string>;
  remove(nameOrId: string): Promise<void>;
  inspect(nameOrId: string): Promise<NetworkInfo>;
  list(options?: { labels?: LabelFilter }): Promise<NetworkInfo[]>;
  connect(network: string, container: string, options?: Omit<NetworkAttachment, 'name'>): Promise<void>;
  disconnect(network: string, container: string, options?: { force?: boolean }): Promise<void>;
}

export interface VolumeInfo {
  name: string;
  driver: string;
  labels: Labels;
  mountpoint: string;
}

export interface VolumeOperations {
  create(spec: { name?: string; labels?: Labels }): Promise<VolumeInfo>;
  inspect(name: string): Promise<VolumeInfo>;
  list(options?: { labels?: LabelFilter }): Promise<VolumeInfo[]>;
  remove(name: string, options?: { force?: boolean }): Promise<void>;
}

export interface ImageInfo {
  id: string;
  repoTags: string[];
  labels: Labels;
  size: number;
  created: string;
  architecture: string;
  os: string;
  entrypoint: string[];
  cmd: string[];
  env: string[];
}

export interface ImageSummary {
  id: string;
  repoTags: string[];
  labels: Labels;
  size: number;
  created: number;
}

/** A pull or push so far, summed over its layers (see transfer-progress.ts). */
export interface TransferProgress {
  /** Layers the engine named so far. */
  layers: number;
  /** Layers moved, or found already there. */
  layersDone: number;
  /** Bytes moved of the layers whose size the engine reported, and their total. */
  bytes: number;
  totalBytes: number;
}

export interface TransferOptions {
  /** Called whenever the engine reports more of the transfer. */
  onProgress?: (progress: TransferProgress) => void;
  signal?: AbortSignal;
  /**
   * Give up when the engine's first word about the transfer takes longer: a registry that does
   * not answer (an air-gapped machine) must not hold a create for the engine's dial timeouts.
   * Once it reports, the transfer takes as long as it takes (Ctrl-C or `signal` end it).
   */
  firstReplyTimeoutMs?: number;
}

export interface TransferResult {
  /** The manifest digest the engine reported, when it did. */
  digest: string | undefined;
}

export interface ImageOperations {
  inspect(reference: string): Promise<ImageInfo>;
  /** Pulls from a registry through the engine (no credentials: public or local registries). */
  pull(reference: string, options?: TransferOptions): Promise<TransferResult>;
  /** Pushes a local image to the registry its name points at. */
  push(reference: string, options?: TransferOptions): Promise<TransferResult>;
  /** Loads a docker-archive tar stream; returns the names (or IDs) the engine reports loaded. */
  load(tar: Readable): Promise<string[]>;
  /** A docker-archive tar stream of the given images. */
  save(references: string[]): Promise<Readable>;
  tag(source: string, target: string): Promise<void>;
  remove(reference: string, options?: { force?: boolean }): Promise<void>;
  list(options?: { labels?: LabelFilter }): Promise<ImageSummary[]>;
}

/** Raw JSON of the engine's system endpoints, parsed by src/engine/engine-facts.ts. */
export type JsonObject = Record<string, unknown>;

export interface SystemOperations {
  ping(): Promise<void>;
  version(): Promise<JsonObject>;
  info(): Promise<JsonObject>;
  /** Podman's own `/libpod/info` (richer than the compat /info); undefined on Docker. */
  libpodInfo(): Promise<JsonObject | undefined>;
}

/** How a resolved endpoint was found; shown by `kur info` and in errors. */
export type EndpointSource =
  | '--host'
  | 'KUR_HOST'
  | 'DOCKER_HOST'
  | 'CONTAINER_HOST'
  | 'docker-context'
  | 'rootful-docker-socket'
  | 'rootless-docker-socket'
  | 'podman-socket';

export interface TlsMaterial {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  /** Skip verifying the server certificate (a context's SkipTLSVerify). */
  insecure?: boolean;
}

/** Where and how to connect; parsed from `unix://` and `tcp://` addresses by src/engine/address.ts. */
export type Connection =
  | { kind: 'unix'; socketPath: string }
  | { kind: 'tcp'; host: string; port: number; tls: TlsMaterial | undefined };

/** What a probe of an endpoint learned (`/_ping` then `/version`). */
export interface ProbeResult {
  provider: Provider;
  version: string;
  apiVersion: string;
  /** The whole `/version` answer, kept so detection does not ask again (Podman answers slowly). */
  versionPayload: JsonObject;
}

export interface ResolvedEndpoint extends ProbeResult {
  source: EndpointSource;
  /** Human description of the source, e.g. `DOCKER_HOST` or `docker context "colima"`. */
  sourceDescription: string;
  /** The address as a URL: `unix:///run/user/1000/docker.sock`, `tcp://host:2376`. */
  address: string;
  connection: Connection;
}

export interface Engine {
  readonly endpoint: ResolvedEndpoint;
  readonly containers: ContainerOperations;
  readonly networks: NetworkOperations;
  readonly volumes: VolumeOperations;
  readonly images: ImageOperations;
  readonly system: SystemOperations;
  /** Closes idle connections; the Engine must not be used afterwards. */
  close(): void;
}
