import type { EngineFacts } from '../engine/engine-facts.js';
import type { HostState } from './host-state.js';
import type { LocalEngineHost } from './read-engine-host.js';

export type CheckStatus = 'ok' | 'warn' | 'fail' | 'skip';

/** One preflight check's verdict, with what it looked at so a user can verify it by hand. */
export interface CheckResult {
  id: string;
  title: string;
  status: CheckStatus;
  /** What was read, e.g. `/proc/sys/fs/inotify/max_user_watches = 8192`. */
  looked: string;
  message: string;
  /** Exact commands that fix a warn or fail, one per line. */
  fix?: string;
}

/** The engine facts the checks use (src/engine/engine-facts.ts reads them from the engine). */
export type PreflightEngine = Pick<
  EngineFacts,
  'provider' | 'rootless' | 'cgroupVersion' | 'cgroupDriver' | 'limits' | 'kernel'
>;

/**
 * Whether kur can run a rootless cluster on a host that gives the engine no cgroups (cgroup v1,
 * or v2 without delegation). Decided by the investigation in issue 5, not by the host.
 */
export type RootlessWithoutCgroups = 'supported-degraded' | 'unsupported';

export interface HostPortRequest {
  /** Listen address; '' or 0.0.0.0 for every IPv4 address. */
  address: string;
  port: number;
  protocol: 'tcp' | 'udp' | 'sctp';
}

export interface PreflightRequest {
  /** Host ports the cluster publishes (the API server's when fixed, extraPortMappings); port 0 is ignored. */
  hostPorts: HostPortRequest[];
  nodeCount: number;
  rootlessWithoutCgroups: RootlessWithoutCgroups;
  /** Flannel is deployed (config's disableDefaultCNI is false): it needs VXLAN. Default true. */
  defaultCni?: boolean;
  /** Default iptables. */
  kubeProxyMode?: 'iptables' | 'nftables';
}

/** What every check gets: the host, the engine, the request, and whether the host is the engine's. */
export interface CheckContext {
  state: HostState;
  engine: PreflightEngine;
  request: PreflightRequest;
  /** The engine's host facts when kur runs on the engine's host; undefined otherwise. */
  local: LocalEngineHost | undefined;
  /** Why host checks were not run, when `local` is undefined. */
  notLocalReason: string;
}

export function check(
  id: string,
  title: string,
  status: CheckStatus,
  looked: string,
  message: string,
  fix?: string,
): CheckResult {
  return fix === undefined
    ? { id, title, status, looked, message }
    : { id, title, status, looked, message, fix };
}

/** Builds the results of one check: status, what it looked at, message, fix. */
export type Report = (status: CheckStatus, looked: string, message: string, fix?: string) => CheckResult;

/**
 * Where a check means something: for any engine, only on the engine's host (`local`), only for
 * a rootless engine, or both. Outside it the check reports `skip` with the reason.
 */
export type CheckScope = 'any' | 'local' | 'rootless' | 'rootless-local';

export type Check = (ctx: CheckContext) => CheckResult;

export function defineCheck(
  id: string,
  title: string,
  scope: CheckScope,
  body: (ctx: CheckContext, report: Report) => CheckResult,
): Check {
  const report: Report = (status, looked, message, fix) => check(id, title, status, looked, message, fix);
  return (ctx) => {
    const rootlessOnly = scope === 'rootless' || scope === 'rootless-local';
    if (rootlessOnly && !ctx.engine.rootless) {
      return report('skip', 'engine is rootful', 'not applicable: rootful engine');
    }
    const localOnly = scope === 'local' || scope === 'rootless-local';
    if (localOnly && ctx.local === undefined) return report('skip', ctx.notLocalReason, ctx.notLocalReason);
    return body(ctx, report);
  };
}

/** Host facts describe the engine's host only for a local socket on the same kernel. */
export function hostScope(
  state: HostState,
  engine: PreflightEngine,
): Pick<CheckContext, 'local' | 'notLocalReason'> {
  if (!state.engine.local) {
    return { local: undefined, notLocalReason: `not checked: remote engine (${state.engine.address})` };
  }
  if (engine.kernel !== '' && engine.kernel !== state.kernelRelease) {
    // Docker Desktop, Podman machine, Colima: a local socket forwarded to a VM.
    return {
      local: undefined,
      notLocalReason: `not checked: the engine runs on kernel ${engine.kernel}, this host on ${state.kernelRelease} (a VM or another machine)`,
    };
  }
  return { local: state.engine, notLocalReason: '' };
}

/** The engine's host facts in a check scoped 'local' or 'rootless-local' (defineCheck guarantees them). */
export function localOf(ctx: CheckContext): LocalEngineHost {
  if (ctx.local === undefined) throw new Error('preflight: a local check ran without local facts');
  return ctx.local;
}

/** The engine's user for fixes: its name when known, else its uid, else a placeholder. */
export function engineUser(local: LocalEngineHost | undefined): string {
  return local?.user ?? (local?.uid === undefined ? '<engine user>' : String(local.uid));
}

export function octal(mode: number): string {
  return `0${mode.toString(8).padStart(3, '0')}`;
}

/** `sysctl` now and a drop-in so it survives a reboot. */
export function sysctlFix(settings: Record<string, number>, file: string): string {
  const pairs = Object.entries(settings);
  return [
    `sudo sysctl ${pairs.map(([k, v]) => `${k}=${v}`).join(' ')}`,
    `printf '${pairs.map(([k, v]) => `${k} = ${v}\\n`).join('')}' | sudo tee /etc/sysctl.d/${file}`,
  ].join('\n');
}

/** Load modules now and at every boot. */
export function modprobeFix(modules: string[], file: string): string {
  return [
    `sudo modprobe -a ${modules.join(' ')}`,
    `printf '${modules.map((m) => `${m}\\n`).join('')}' | sudo tee /etc/modules-load.d/${file}`,
  ].join('\n');
}

export function restartEngineHint(engine: PreflightEngine): string {
  return engine.provider === 'podman'
    ? 'systemctl --user restart podman.socket podman.service   # or restart `podman system service`'
    : 'systemctl --user restart docker   # or restart dockerd-rootless.sh';
}
