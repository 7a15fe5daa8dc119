import { asRecord, num, records, str, strArray, strRecord, type JsonRecord } from './json.js';
import type {
  ContainerInfo,
  ContainerSpec,
  ContainerSummary,
  ImageInfo,
  ImageSummary,
  LabelFilter,
  NetworkInfo,
  NetworkSpec,
  PortProtocol,
  PublishedPort,
  VolumeInfo,
} from './types.js';

/**
 * The Engine API's wire format, both ways: request bodies built from kur's typed specs and
 * responses read into kur's types. Pure, so the mapping is unit-tested; docker-api.ts sends it.
 * Fields are the Docker API 1.41 names, which Podman's compat API also reads.
 */

/** The option both Docker and Podman's compat API read for a bridge network's MTU. */
export const mtuOption = 'com.docker.network.driver.mtu';

/**
 * The label filter sent to the engine: only the first label. Podman 4.3 combines several label
 * filters wrongly (images: none match; volumes: any matches), so the engine narrows by one label
 * and `matchesLabels` applies them all.
 */
export function labelFilters(filter: LabelFilter | undefined): Record<string, string[]> {
  const first = Object.entries(filter ?? {})[0];
  if (first === undefined) return {};
  const [key, value] = first;
  return { label: [value === true ? key : `${key}=${value}`] };
}

/** True when `labels` has every label of the filter (a key alone for `true`). */
export function matchesLabels(labels: Record<string, string>, filter: LabelFilter | undefined): boolean {
  return Object.entries(filter ?? {}).every(([key, value]) =>
    value === true ? Object.hasOwn(labels, key) : labels[key] === value,
  );
}

const bindOptions = (readOnly: boolean | undefined, propagation: string | undefined): string => {
  const options = [readOnly === true ? 'ro' : 'rw'];
  if (propagation !== undefined) options.push(propagation);
  return options.join(',');
};

export function containerCreateBody(spec: ContainerSpec): JsonRecord {
  const exposed: Record<string, object> = {};
  const portBindings: Record<string, { HostIp: string; HostPort: string }[]> = {};
  for (const port of spec.ports ?? []) {
    const key = `${port.containerPort}/${port.protocol ?? 'tcp'}`;
    exposed[key] = {};
    const hostPort = port.hostPort === undefined || port.hostPort === 0 ? '' : String(port.hostPort);
    (portBindings[key] ??= []).push({ HostIp: port.hostIp ?? '', HostPort: hostPort });
  }
  // Binds are read the same way by Docker and Podman; volumes go through Mounts to carry labels.
  const binds: string[] = [];
  const mounts: JsonRecord[] = [];
  for (const mount of spec.mounts ?? []) {
    if (mount.type === 'bind') {
      binds.push(`${mount.source}:${mount.target}:${bindOptions(mount.readOnly, mount.propagation)}`);
    } else {
      mounts.push(
        compact({
          Type: 'volume',
          Source: mount.source,
          Target: mount.target,
          ReadOnly: mount.readOnly,
          VolumeOptions: mount.labels === undefined ? undefined : { Labels: mount.labels },
        }),
      );
    }
  }
  const hostConfig = compact({
    Privileged: spec.privileged,
    CapAdd: spec.capAdd,
    CapDrop: spec.capDrop,
    SecurityOpt: spec.securityOpt,
    Devices: spec.devices?.map((d) => ({
      PathOnHost: d.hostPath,
      PathInContainer: d.containerPath ?? d.hostPath,
      CgroupPermissions: d.permissions ?? 'rwm',
    })),
    DeviceCgroupRules: spec.deviceCgroupRules,
    MaskedPaths: spec.maskedPaths,
    ReadonlyPaths: spec.readonlyPaths,
    Tmpfs: spec.tmpfs,
    Binds: binds.length > 0 ? binds : undefined,
    Mounts: mounts.length > 0 ? mounts : undefined,
    PortBindings: spec.ports === undefined ? undefined : portBindings,
    NetworkMode: spec.network?.name,
    RestartPolicy:
      spec.restartPolicy === undefined
        ? undefined
        : compact({ Name: spec.restartPolicy.name, MaximumRetryCount: spec.restartPolicy.maximumRetryCount }),
    CgroupnsMode: spec.cgroupnsMode,
    Init: spec.init,
    PidsLimit: spec.pidsLimit,
    Memory: spec.memoryBytes,
    NanoCpus: spec.nanoCpus,
    LogConfig:
      spec.logConfig === undefined
        ? undefined
        : { Type: spec.logConfig.type, Config: spec.logConfig.config ?? {} },
    Sysctls: spec.sysctls,
    Ulimits: spec.ulimits?.map((u) => ({ Name: u.name, Soft: u.soft, Hard: u.hard })),
    UsernsMode: spec.usernsMode,
    PidMode: spec.pidMode,
    ShmSize: spec.shmSizeBytes,
    ReadonlyRootfs: spec.readonlyRootfs,
    ExtraHosts: spec.extraHosts,
    AutoRemove: spec.autoRemove,
  });
  const network = spec.network;
  const networking =
    network === undefined
      ? undefined
      : {
          EndpointsConfig: {
            [network.name]: compact({
              Aliases: network.aliases,
              IPAMConfig:
                network.ipv4Address === undefined && network.ipv6Address === undefined
                  ? undefined
                  : compact({ IPv4Address: network.ipv4Address, IPv6Address: network.ipv6Address }),
            }),
          },
        };
  return compact({
    Image: spec.image,
    Hostname: spec.hostname,
    Domainname: spec.domainname,
    User: spec.user,
    Env: spec.env === undefined ? undefined : Object.entries(spec.env).map(([k, v]) => `${k}=${v}`),
    Entrypoint: spec.entrypoint,
    Cmd: spec.cmd,
    WorkingDir: spec.workingDir,
    Labels: spec.labels,
    Tty: spec.tty,
    OpenStdin: spec.openStdin,
    StopSignal: spec.stopSignal,
    StopTimeout: spec.stopTimeoutSeconds,
    ExposedPorts: spec.ports === undefined ? undefined : exposed,
    HostConfig: hostConfig,
    NetworkingConfig: networking,
  });
}

/** Drops undefined fields so the engine applies its own defaults for them. */
function compact(record: Record<string, unknown>): JsonRecord {
  const out: JsonRecord = {};
  for (const [key, value] of Object.entries(record)) if (value !== undefined) out[key] = value;
  return out;
}

export function parseContainerInfo(raw: JsonRecord): ContainerInfo {
  const state = asRecord(raw.State) ?? {};
  const config = asRecord(raw.Config) ?? {};
  const hostConfig = asRecord(raw.HostConfig) ?? {};
  const settings = asRecord(raw.NetworkSettings) ?? {};
  const networks: ContainerInfo['networks'] = {};
  for (const [name, value] of Object.entries(asRecord(settings.Networks) ?? {})) {
    const n = asRecord(value) ?? {};
    networks[name] = {
      networkId: str(n.NetworkID),
      ipv4Address: str(n.IPAddress),
      ipv4PrefixLength: num(n.IPPrefixLen),
      ipv6Address: str(n.GlobalIPv6Address),
      gateway: str(n.Gateway),
      macAddress: str(n.MacAddress),
      aliases: strArray(n.Aliases),
    };
  }
  return {
    id: str(raw.Id),
    name: str(raw.Name).replace(/^\//, ''),
    image: str(config.Image),
    imageId: str(raw.Image),
    created: str(raw.Created),
    hostname: str(config.Hostname),
    labels: strRecord(config.Labels),
    state: {
      status: str(state.Status),
      running: state.Running === true,
      exitCode: num(state.ExitCode),
      pid: num(state.Pid),
      error: str(state.Error),
      oomKilled: state.OOMKilled === true,
      startedAt: str(state.StartedAt),
      finishedAt: str(state.FinishedAt),
    },
    restartCount: num(raw.RestartCount),
    networks,
    ports: parsePorts(settings.Ports),
    portBindings: parsePorts(hostConfig.PortBindings),
    mounts: records(raw.Mounts).map((m) => ({
      type: str(m.Type),
      name: str(m.Name),
      source: str(m.Source),
      destination: str(m.Destination),
      readOnly: m.RW === false,
      propagation: str(m.Propagation),
    })),
    privileged: hostConfig.Privileged === true,
    capAdd: strArray(hostConfig.CapAdd),
    securityOpt: strArray(hostConfig.SecurityOpt),
    cgroupnsMode: str(hostConfig.CgroupnsMode),
    restartPolicy: str(asRecord(hostConfig.RestartPolicy)?.Name),
  };
}

function parsePorts(value: unknown): PublishedPort[] {
  const out: PublishedPort[] = [];
  for (const [key, bindings] of Object.entries(asRecord(value) ?? {})) {
    const [port, protocol] = key.split('/');
    for (const binding of records(bindings)) {
      out.push({
        containerPort: Number(port),
        protocol: (protocol ?? 'tcp') as PortProtocol,
        hostIp: str(binding.HostIp),
        hostPort: Number(str(binding.HostPort, '0')),
      });
    }
  }
  return out;
}

export function parseContainerSummary(raw: JsonRecord): ContainerSummary {
  const names = strArray(raw.Names);
  return {
    id: str(raw.Id),
    name: (names[0] ?? '').replace(/^\//, ''),
    image: str(raw.Image),
    state: str(raw.State),
    status: str(raw.Status),
    labels: strRecord(raw.Labels),
    created: num(raw.Created),
  };
}

export function networkCreateBody(spec: NetworkSpec): JsonRecord {
  const options: Record<string, string> = { ...(spec.options ?? {}) };
  if (spec.mtu !== undefined) options[mtuOption] = String(spec.mtu);
  const ipam: JsonRecord[] = [];
  if (spec.subnet !== undefined)
    ipam.push(compact({ Subnet: spec.subnet, Gateway: spec.gateway, IPRange: spec.ipRange }));
  if (spec.ipv6Subnet !== undefined) ipam.push({ Subnet: spec.ipv6Subnet });
  return compact({
    Name: spec.name,
    CheckDuplicate: true,
    Driver: spec.driver ?? 'bridge',
    Internal: spec.internal,
    EnableIPv6: spec.ipv6Subnet === undefined ? undefined : true,
    IPAM: ipam.length > 0 ? { Driver: 'default', Config: ipam } : undefined,
    Options: options,
    Labels: spec.labels ?? {},
  });
}

export function parseNetworkInfo(raw: JsonRecord): NetworkInfo {
  const options = strRecord(raw.Options);
  const ipam = asRecord(raw.IPAM) ?? {};
  const containers: NetworkInfo['containers'] = {};
  for (const [id, value] of Object.entries(asRecord(raw.Containers) ?? {})) {
    const c = asRecord(value) ?? {};
    containers[id] = { name: str(c.Name), ipv4Address: str(c.IPv4Address) };
  }
  // Docker names the MTU option the compat way; Podman's own networks call it `mtu`.
  const mtuText = options[mtuOption] ?? options.mtu;
  const mtu = mtuText === undefined || mtuText === '' || Number(mtuText) === 0 ? undefined : Number(mtuText);
  return {
    id: str(raw.Id),
    name: str(raw.Name),
    driver: str(raw.Driver),
    labels: strRecord(raw.Labels),
    subnets: records(ipam.Config).map((c) => ({ subnet: str(c.Subnet), gateway: str(c.Gateway) })),
    mtu,
    options,
    internal: raw.Internal === true,
    containers,
  };
}

export function parseVolumeInfo(raw: JsonRecord): VolumeInfo {
  return {
    name: str(raw.Name),
    driver: str(raw.Driver),
    labels: strRecord(raw.Labels),
    mountpoint: str(raw.Mountpoint),
  };
}

export function parseImageInfo(raw: JsonRecord): ImageInfo {
  const config = asRecord(raw.Config) ?? {};
  return {
    id: str(raw.Id),
    repoTags: strArray(raw.RepoTags),
    labels: strRecord(config.Labels),
    size: num(raw.Size),
    created: str(raw.Created),
    architecture: str(raw.Architecture),
    os: str(raw.Os),
    entrypoint: strArray(config.Entrypoint),
    cmd: strArray(config.Cmd),
    env: strArray(config.Env),
  };
}

export function parseImageSummary(raw: JsonRecord): ImageSummary {
  return {
    id: str(raw.Id),
    repoTags: strArray(raw.RepoTags).filter((t) => t !== '<none>:<none>'),
    labels: strRecord(raw.Labels),
    size: num(raw.Size),
    created: num(raw.Created),
  };
}

/**
 * Reads the progress messages of `POST /images/load`: newline-separated JSON objects with
 * `stream` text ("Loaded image: name", "Loaded image ID: sha256:...") or an `error`.
 */
/** The error an engine reports inside a 200 response's JSON stream (load, pull, push), or ''. */
export function streamedError(record: Record<string, unknown>): string {
  return str(record.error) || str(asRecord(record.errorDetail)?.message);
}

export function parseLoadOutput(text: string): { names: string[]; error: string | undefined } {
  const names: string[] = [];
  let error: string | undefined;
  const messages: string[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      messages.push(line);
      continue;
    }
    const record = asRecord(value) ?? {};
    const failure = streamedError(record);
    if (failure !== '') error = failure;
    messages.push(str(record.stream));
  }
  for (const message of messages) {
    for (const line of message.split('\n')) {
      // Docker: "Loaded image: a:b"; Podman: "Loaded image: a:b" or "Loaded image(s): a:b,c:d".
      const match = /^Loaded image(?: ID|\(s\))?:\s*(.+)$/.exec(line.trim());
      if (match?.[1] !== undefined) names.push(...match[1].split(',').map((n) => n.trim()));
    }
  }
  return { names: names.filter((n) => n !== ''), error };
}

/** Splits `repo[:tag]` (a registry port is not a tag). */
/** The part of an image reference before its first `/` (`host[:port]` when it names a registry), or ''. */
export function referenceHost(reference: string): string {
  const slash = reference.indexOf('/');
  return slash < 0 ? '' : reference.slice(0, slash);
}

export function splitReference(reference: string): { repo: string; tag: string } {
  const slash = reference.lastIndexOf('/');
  const colon = reference.lastIndexOf(':');
  if (colon > slash) return { repo: reference.slice(0, colon), tag: reference.slice(colon + 1) };
  return { repo: reference, tag: 'latest' };
}
