import { randomBytes } from 'node:crypto';
import { boundingSetOf, capabilitiesFromMask, capabilityNames } from './capabilities.js';
import type { HostFs } from './host-fs.js';
import { labels } from './labels.js';
import { loadProbeImage, type ProbeImage } from './probe-image.js';
import type { ContainerSpec, Engine, Provider } from './types.js';
import { KurError, isKurError, messageOf } from '../util/errors.js';
import type { Logger } from '../util/logger.js';

/**
 * How a node container gets the privileges it needs (systemd, nested containers, mounts).
 * `privileged` where the engine allows it. Where privileged fails because the engine's
 * capability bounding set is restricted (sandboxed CI runners), `explicit-capabilities`:
 * every capability the engine can grant, with seccomp, AppArmor, SELinux labels and the masked
 * /proc and /sys paths lifted, and access to all devices. `unavailable` when neither starts.
 */
export type PrivilegeMode =
  | { kind: 'privileged' }
  | {
      kind: 'explicit-capabilities';
      capabilities: string[];
      /** Capabilities the engine knows but cannot grant (outside its bounding set). */
      missing: string[];
      /** Capabilities the engine does not know by name (older engines on newer kernels). */
      unknownToEngine: string[];
      /** Why privileged was not used: the engine's own words. */
      reason: string;
    }
  | { kind: 'unavailable'; reason: string };

export type PrivilegeSpec = Pick<
  ContainerSpec,
  'privileged' | 'capAdd' | 'securityOpt' | 'deviceCgroupRules' | 'maskedPaths' | 'readonlyPaths'
>;

/** The container fields that give a node its privileges under `mode`. */
export function privilegeSpec(mode: PrivilegeMode, provider: Provider): PrivilegeSpec {
  if (mode.kind === 'privileged') return { privileged: true };
  if (mode.kind === 'unavailable') {
    throw new KurError(
      'preflight',
      'this engine cannot start privileged containers, which Kubernetes nodes need',
      {
        detail: mode.reason,
        hint: 'run kur against an engine that allows privileged containers (rootless Docker or Podman work without root).',
      },
    );
  }
  const securityOpt = ['seccomp=unconfined', 'apparmor=unconfined', 'label=disable'];
  // Docker's API takes empty path lists for `systempaths=unconfined` (a CLI-only spelling);
  // for Podman the option itself is kept and mapped to libpod's `unmask` (podman-spec.ts).
  if (provider === 'podman') securityOpt.push('systempaths=unconfined');
  return {
    capAdd: mode.capabilities,
    securityOpt,
    deviceCgroupRules: ['a *:* rwm'],
    ...(provider === 'docker' ? { maskedPaths: [], readonlyPaths: [] } : {}),
  };
}

export interface PrivilegeProbeOptions {
  logger: Logger;
  fs: HostFs;
  /** Use only kur's own probe program, not the host's busybox (tests of the fallback path). */
  builtinOnly?: boolean;
}

type Trial = { ok: true; stdout: string } | { ok: false; message: string; unknownCapability?: string };

/**
 * Finds the privilege mode by starting throwaway containers: privileged first; on failure the
 * engine's bounding set is read (from the PID namespace of the engine host, through the
 * container's parent, the runtime shim) and confirmed by a start with exactly those
 * capabilities; if it cannot be read, the grantable set is found by halving.
 */
export async function probePrivilege(
  engine: Engine,
  arch: string,
  options: PrivilegeProbeOptions,
): Promise<PrivilegeMode> {
  const { logger } = options;
  const provider = engine.endpoint.provider;
  const started = Date.now();
  const image = await loadProbeImage(engine, arch, options);
  try {
    const privileged = await trial(engine, image, { privileged: true });
    if (privileged.ok) {
      logger.debug(`engine probe: privileged containers start (${Date.now() - started} ms)`);
      return { kind: 'privileged' };
    }
    const reason = privileged.message;
    logger.debug(`engine probe: a privileged container does not start: ${reason}`);

    let candidates = [...capabilityNames];
    if (image.canRead) {
      // The container's parent (the runtime shim or conmon) holds the engine's bounding set.
      const read = await trial(engine, image, { pidMode: 'host' }, ['sh', '-c', 'cat /proc/$PPID/status']);
      const mask = read.ok ? boundingSetOf(read.stdout) : undefined;
      if (mask !== undefined) {
        candidates = capabilitiesFromMask(mask);
        logger.debug(`engine probe: engine bounding set ${mask}`);
      } else {
        logger.debug(`engine probe: bounding set not readable: ${read.ok ? 'no CapBnd line' : read.message}`);
      }
    }
    const withCaps = async (caps: string[]): Promise<Trial> =>
      trial(engine, image, privilegeSpecFor(caps, provider));
    const known = await dropUnknown(candidates, withCaps);
    let granted = known.capabilities;
    let last = known.result;
    if (!last.ok) {
      const plain = await trial(engine, image, {});
      if (!plain.ok)
        return {
          kind: 'unavailable',
          reason: `${reason}\neven an unprivileged container fails: ${plain.message}`,
        };
      granted = await grantable(granted, async (caps) => (await withCaps(caps)).ok);
      last = await withCaps(granted);
    }
    if (!last.ok) {
      return { kind: 'unavailable', reason: `${reason}\nwith explicit capabilities: ${last.message}` };
    }
    const missing = capabilityNames.filter((c) => !granted.includes(c) && !known.unknown.includes(c));
    logger.debug(
      `engine probe: explicit capabilities work; not grantable: ${missing.join(', ') || 'none'} (${Date.now() - started} ms)`,
    );
    return {
      kind: 'explicit-capabilities',
      capabilities: granted,
      missing,
      unknownToEngine: known.unknown,
      reason,
    };
  } finally {
    await image.remove().catch((error: unknown) => logger.debug(`engine probe: ${messageOf(error)}`));
  }
}

function privilegeSpecFor(capabilities: string[], provider: Provider): PrivilegeSpec {
  return privilegeSpec(
    { kind: 'explicit-capabilities', capabilities, missing: [], unknownToEngine: [], reason: '' },
    provider,
  );
}

/** Engines reject capability names they do not know (Docker 20.10: CAP_PERFMON and later) at create. */
async function dropUnknown(
  candidates: string[],
  attempt: (caps: string[]) => Promise<Trial>,
): Promise<{ capabilities: string[]; unknown: string[]; result: Trial }> {
  let caps = candidates;
  const dropped: string[] = [];
  for (;;) {
    const result = await attempt(caps);
    const unknown = result.ok ? undefined : result.unknownCapability;
    if (unknown === undefined || !caps.includes(unknown))
      return { capabilities: caps, unknown: dropped, result };
    dropped.push(unknown);
    caps = caps.filter((c) => c !== unknown);
  }
}

/**
 * The capabilities of `caps` that can be granted, by halving: each capability is either in the
 * engine's bounding set or not, so the union of grantable halves is grantable.
 */
export async function grantable(
  caps: string[],
  works: (caps: string[]) => Promise<boolean>,
): Promise<string[]> {
  if (caps.length === 0) return [];
  if (await works(caps)) return caps;
  if (caps.length === 1) return [];
  const middle = Math.ceil(caps.length / 2);
  const [left, right] = await Promise.all([
    grantable(caps.slice(0, middle), works),
    grantable(caps.slice(middle), works),
  ]);
  return [...left, ...right];
}

/** Creates, starts and waits for one probe container, then removes it. */
async function trial(
  engine: Engine,
  image: ProbeImage,
  spec: Partial<ContainerSpec>,
  cmd: string[] = image.succeed,
): Promise<Trial> {
  const name = `kur-probe-${randomBytes(4).toString('hex')}`;
  const create = () =>
    engine.containers.create({
      ...spec,
      name,
      image: image.reference,
      cmd,
      labels: { [labels.managed]: 'true' },
    });
  let id: string;
  try {
    id = await create().catch(async (error: unknown) => {
      // The image vanished under us (removed by something else): load it again, once. A
      // missing image says nothing about privileges and must not be read as a refusal.
      if (!isMissingImage(error)) throw error;
      await image.reload();
      return create();
    });
  } catch (error) {
    const message = detailOf(error);
    return {
      ok: false,
      message,
      unknownCapability: /unknown capability:?\s*"?(CAP_[A-Z_]+)/i.exec(message)?.[1],
    };
  }
  try {
    await engine.containers.start(id);
    const code = await exitCodeOf(engine, id);
    const logs = await engine.containers.logs(id);
    if (code !== 0) return { ok: false, message: `the probe exited with ${code}: ${logs.stderr.trim()}` };
    return { ok: true, stdout: logs.stdout };
  } catch (error) {
    return { ok: false, message: detailOf(error) };
  } finally {
    await engine.containers.remove(id, { force: true, volumes: true }).catch((error: unknown) => {
      if (!isKurError(error, 'notFound')) throw error;
    });
  }
}

/**
 * Polls inspect until the probe exited: a probe runs for milliseconds, and Podman's wait
 * endpoint answers only after half a second or more.
 */
async function exitCodeOf(engine: Engine, id: string): Promise<number> {
  const deadline = Date.now() + probeRunLimitMs;
  for (let delay = 10; ; delay = Math.min(delay * 2, 200)) {
    const { state } = await engine.containers.inspect(id);
    if (!state.running && state.status !== 'created') return state.exitCode;
    if (Date.now() > deadline)
      throw new Error(`the probe container still runs after ${probeRunLimitMs / 1000}s`);
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
}

const probeRunLimitMs = 30_000;

/** The engine's "no such image" (Docker 404; Podman may answer 404 or 500 with the same words). */
export function isMissingImage(error: unknown): boolean {
  return /no such image|image not known/i.test(`${messageOf(error)} ${detailOf(error)}`);
}

function detailOf(error: unknown): string {
  return isKurError(error) && error.detail !== undefined ? error.detail : messageOf(error);
}
