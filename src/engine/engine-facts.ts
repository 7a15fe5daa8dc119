import { asRecord, num, optStr, records, str, strArray, type JsonRecord } from './json.js';
import type { Provider } from './types.js';

/**
 * What an engine's `/version`, `/info` and (Podman) `/libpod/info` payloads say about it,
 * read by pure functions so they are tested against payloads recorded from real engines
 * (src/engine/testdata/).
 */
export interface EngineFacts {
  provider: Provider;
  version: string;
  apiVersion: string;
  minApiVersion: string;
  /** GOARCH of the engine host: amd64, arm64. */
  arch: string;
  os: string;
  osType: string;
  kernel: string;
  hostname: string;
  rootless: boolean;
  /** undefined when the engine does not say (old engines). */
  cgroupVersion: 1 | 2 | undefined;
  /** cgroupfs, systemd, or none (a rootless engine without delegated cgroups). */
  cgroupDriver: string;
  limits: { memory: boolean; pids: boolean; cpu: boolean };
  storageDriver: string;
  /** The OCI runtime containers get by default (runc, crun). */
  defaultRuntime: string;
  /** `name=` values of the security options (seccomp, apparmor, selinux, rootless, cgroupns, userns). */
  securityOptions: string[];
  cpus: number;
  memoryBytes: number;
  warnings: string[];
}

/** `/version`, plus Docker's `/info` or Podman's `/libpod/info` (its compat /info as a fallback). */
export interface EnginePayloads {
  version: JsonRecord;
  info?: JsonRecord | undefined;
  libpodInfo?: JsonRecord | undefined;
}

/** Podman's compat `/version` lists a component named "Podman Engine"; Docker's says "Engine". */
export function providerFromVersion(version: JsonRecord): Provider {
  const components = records(version.Components);
  if (components.some((c) => /podman/i.test(str(c.Name)))) return 'podman';
  if (/podman/i.test(str(asRecord(version.Platform)?.Name))) return 'podman';
  return 'docker';
}

function securityOptionNames(info: JsonRecord): string[] {
  // Entries look like "name=seccomp,profile=default"; very old engines sent bare words.
  return strArray(info.SecurityOptions).map((entry) => {
    const name = entry
      .split(',')
      .map((part) => part.split('='))
      .find(([key]) => key === 'name')?.[1];
    return name ?? entry;
  });
}

function libpodSecurityNames(libpodHost: JsonRecord | undefined): string[] | undefined {
  const security = asRecord(libpodHost?.security);
  if (security === undefined) return undefined;
  const flags: [string, unknown][] = [
    ['seccomp', security.seccompEnabled],
    ['apparmor', security.apparmorEnabled],
    ['selinux', security.selinuxEnabled],
    ['rootless', security.rootless],
  ];
  return flags.filter(([, on]) => on === true).map(([name]) => name);
}

function parseCgroupVersion(value: unknown): 1 | 2 | undefined {
  const text = typeof value === 'number' ? String(value) : str(value);
  if (text === '1' || text === 'v1') return 1;
  if (text === '2' || text === 'v2') return 2;
  return undefined;
}

export function parseEngineFacts(payloads: EnginePayloads): EngineFacts {
  const { version } = payloads;
  const info = payloads.info ?? {};
  const provider = providerFromVersion(version);
  const libpod = payloads.libpodInfo;
  const libpodHost = asRecord(libpod?.host);
  const security = libpodSecurityNames(libpodHost) ?? securityOptionNames(info);

  const libpodRootless = asRecord(libpodHost?.security)?.rootless;
  // Docker lists name=rootless; Podman's compat /info has a top-level Rootless flag instead.
  const rootless =
    typeof libpodRootless === 'boolean'
      ? libpodRootless
      : security.includes('rootless') || info.Rootless === true;

  const cgroupVersion =
    parseCgroupVersion(libpodHost?.cgroupVersion) ?? parseCgroupVersion(info.CgroupVersion);
  const cgroupDriver = optStr(libpodHost?.cgroupManager) ?? optStr(info.CgroupDriver) ?? 'unknown';

  const limits = parseLimits(info, libpodHost, rootless, cgroupVersion, cgroupDriver);

  const runtime = asRecord(libpodHost?.ociRuntime);
  return {
    provider,
    version: str(version.Version, 'unknown'),
    apiVersion: str(version.ApiVersion, 'unknown'),
    minApiVersion: str(version.MinAPIVersion, 'unknown'),
    arch: str(version.Arch) || goArch(str(info.Architecture)),
    os: distribution(libpodHost) ?? str(info.OperatingSystem),
    osType: str(info.OSType) || str(version.Os, 'linux'),
    kernel: str(info.KernelVersion) || str(version.KernelVersion) || str(libpodHost?.kernel),
    hostname: str(info.Name) || str(libpodHost?.hostname),
    rootless,
    cgroupVersion,
    cgroupDriver,
    limits,
    storageDriver: str(info.Driver) || str(asRecord(libpod?.store)?.graphDriverName),
    defaultRuntime: optStr(runtime?.name) ?? str(info.DefaultRuntime),
    securityOptions: security,
    cpus: num(info.NCPU) || num(libpodHost?.cpus),
    memoryBytes: num(info.MemTotal) || num(libpodHost?.memTotal),
    warnings: strArray(info.Warnings),
  };
}

function parseLimits(
  info: JsonRecord,
  libpodHost: JsonRecord | undefined,
  rootless: boolean,
  cgroupVersion: 1 | 2 | undefined,
  cgroupDriver: string,
): EngineFacts['limits'] {
  // Without a cgroup manager, or rootless on cgroup v1 (nothing delegates v1 controllers to a
  // user), an engine cannot apply limits, whatever the kernel supports.
  if (cgroupDriver === 'none' || (rootless && cgroupVersion === 1)) {
    return { memory: false, pids: false, cpu: false };
  }
  // Podman lists the controllers it can use (for rootless v2: the delegated ones).
  const controllers = libpodHost?.cgroupControllers;
  if (Array.isArray(controllers)) {
    const names = strArray(controllers);
    return { memory: names.includes('memory'), pids: names.includes('pids'), cpu: names.includes('cpu') };
  }
  return {
    memory: info.MemoryLimit === true,
    pids: info.PidsLimit === true,
    cpu: info.CpuCfsQuota === true || info.CpuCfsPeriod === true || info.CPUShares === true,
  };
}

function distribution(libpodHost: JsonRecord | undefined): string | undefined {
  const d = asRecord(libpodHost?.distribution);
  const name = optStr(d?.distribution);
  if (name === undefined) return undefined;
  const codename = optStr(d?.codename);
  return [name, optStr(d?.version), codename === undefined ? undefined : `(${codename})`]
    .filter(Boolean)
    .join(' ');
}

/** /info's Architecture is `uname -m` (x86_64); images and probe binaries use GOARCH names. */
export function goArch(machine: string): string {
  switch (machine) {
    case 'x86_64':
      return 'amd64';
    case 'aarch64':
      return 'arm64';
    default:
      return machine;
  }
}
