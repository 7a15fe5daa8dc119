import { parseEngineFacts, type EngineFacts } from './engine-facts.js';
import { realHostFs, type HostFs } from './host-fs.js';
import { probePrivilege, type PrivilegeMode } from './privilege.js';
import type { Engine } from './types.js';
import { isKurError, messageOf } from '../util/errors.js';
import type { Logger } from '../util/logger.js';

/** Everything kur needs to know about an engine before it creates nodes on it. */
export interface EngineInfo extends EngineFacts {
  /** MTU of the engine's default bridge network, when the engine reports one. */
  bridgeMtu: number | undefined;
  privilege: PrivilegeMode;
  /** How long detection took, privilege probe included. */
  detectMs: number;
}

export interface DetectOptions {
  logger: Logger;
  fs?: HostFs;
  /** Use only kur's own probe program for the privilege probe (tests of the fallback path). */
  builtinProbe?: boolean;
  /** Detect again even if this endpoint was detected before in this process. */
  refresh?: boolean;
}

const cache = new Map<string, Promise<EngineInfo>>();

/**
 * Detects an engine once per endpoint address and process: its payloads are read, its default
 * bridge inspected and privileged containers probed. Concurrent callers share one detection.
 */
export function detectEngine(engine: Engine, options: DetectOptions): Promise<EngineInfo> {
  const key = engine.endpoint.address;
  const cached = options.refresh === true ? undefined : cache.get(key);
  if (cached !== undefined) return cached;
  const detection = runDetection(engine, options);
  cache.set(key, detection);
  // A failed detection is not remembered: the next caller tries again.
  detection.catch(() => cache.delete(key));
  return detection;
}

export function clearDetectionCache(): void {
  cache.clear();
}

/** Reads the engine's payloads into facts (no containers started). */
export async function readEngineFacts(engine: Engine, logger: Logger): Promise<EngineFacts> {
  const version = engine.endpoint.versionPayload;
  if (engine.endpoint.provider === 'podman') {
    // libpod's own info says all kur needs (and, unlike the compat /info, whether it is rootless).
    try {
      const libpodInfo = await engine.system.libpodInfo();
      if (libpodInfo !== undefined) return parseEngineFacts({ version, libpodInfo });
    } catch (error) {
      logger.debug(`engine: /libpod/info failed, reading the compat /info: ${messageOf(error)}`);
    }
  }
  return parseEngineFacts({ version, info: await engine.system.info() });
}

async function runDetection(engine: Engine, options: DetectOptions): Promise<EngineInfo> {
  const started = Date.now();
  const { logger } = options;
  const facts = await readEngineFacts(engine, logger);
  const [bridgeMtu, privilege] = await Promise.all([
    defaultBridgeMtu(engine, logger),
    probePrivilege(engine, facts.arch, {
      logger,
      fs: options.fs ?? realHostFs,
      builtinOnly: options.builtinProbe,
    }),
  ]);
  const detectMs = Date.now() - started;
  logger.debug(
    `engine: ${facts.provider} ${facts.version}, rootless=${facts.rootless}, cgroup v${facts.cgroupVersion ?? '?'} ` +
      `(${facts.cgroupDriver}), privilege ${privilege.kind}, detected in ${detectMs} ms`,
  );
  return { ...facts, bridgeMtu, privilege, detectMs };
}

async function defaultBridgeMtu(engine: Engine, logger: Logger): Promise<number | undefined> {
  const name = engine.endpoint.provider === 'podman' ? 'podman' : 'bridge';
  try {
    return (await engine.networks.inspect(name)).mtu;
  } catch (error) {
    if (!isKurError(error, 'notFound'))
      logger.debug(`engine: cannot read the MTU of network ${name}: ${messageOf(error)}`);
    return undefined;
  }
}
