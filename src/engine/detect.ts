import { join } from 'node:path';
import { EngineCache, engineCacheKey, type EngineCacheFs } from './engine-cache.js';
import { parseEngineFacts, type EngineFacts } from './engine-facts.js';
import { realHostFs, type HostFs } from './host-fs.js';
import { probePrivilege, type PrivilegeMode } from './privilege.js';
import type { Engine } from './types.js';
import { cacheRoot } from '../util/cache.js';
import { isKurError, messageOf } from '../util/errors.js';
import type { Logger } from '../util/logger.js';
import { kurVersion } from '../version.js';

/** Everything kur needs to know about an engine before it creates nodes on it. */
export interface EngineInfo extends EngineFacts {
  /** MTU of the engine's default bridge network, when the engine reports one. */
  bridgeMtu: number | undefined;
  privilege: PrivilegeMode;
  /** How long detection took, privilege probe included (a few ms when it came from the cache). */
  detectMs: number;
  /** Whether the facts and the privilege mode came from kur's engine cache (engine-cache.ts). */
  cached: boolean;
}

/** What the engine cache keeps per engine. */
export type CachedEngine = Omit<EngineInfo, 'detectMs' | 'cached'>;

/** Where and how the engine cache lives; `false` turns it off. */
export interface EngineCacheSettings {
  env?: Record<string, string | undefined>;
  fs?: EngineCacheFs;
  now?: () => number;
  /** The uid kur runs as (part of the key). */
  uid?: number;
}

export interface DetectOptions {
  logger: Logger;
  fs?: HostFs;
  /** Use only kur's own probe program for the privilege probe (tests of the fallback path). */
  builtinProbe?: boolean;
  /** Detect again even if this endpoint was detected before, in this process or in the engine cache. */
  refresh?: boolean;
  /** The on-disk engine cache; `false` neither reads nor writes it. Off with `builtinProbe`. */
  cache?: EngineCacheSettings | false;
}

const memo = new Map<string, Promise<EngineInfo>>();

/**
 * Detects an engine once per endpoint address and process: its payloads are read, its default
 * bridge inspected and privileged containers probed. Concurrent callers share one detection.
 * Across processes the result is kept in the engine cache, keyed by what would change it.
 */
export function detectEngine(engine: Engine, options: DetectOptions): Promise<EngineInfo> {
  const key = engine.endpoint.address;
  const cached = options.refresh === true ? undefined : memo.get(key);
  if (cached !== undefined) return cached;
  const detection = runDetection(engine, options);
  memo.set(key, detection);
  // A failed detection is not remembered: the next caller tries again.
  detection.catch(() => memo.delete(key));
  return detection;
}

export function clearDetectionCache(): void {
  memo.clear();
}

interface OpenedCache {
  cache: EngineCache<CachedEngine>;
  key: string;
}

async function openCache(
  engine: Engine,
  settings: EngineCacheSettings | false | undefined,
): Promise<OpenedCache | undefined> {
  if (settings === false) return undefined;
  const env = settings?.env ?? process.env;
  if (env.KUR_ENGINE_CACHE === '0' || env.KUR_ENGINE_CACHE === 'false') return undefined;
  const cache = new EngineCache<CachedEngine>({
    dir: join(cacheRoot(env), 'engines'),
    ...(settings?.fs !== undefined ? { fs: settings.fs } : {}),
    ...(settings?.now !== undefined ? { now: settings.now } : {}),
  });
  const key = await engineCacheKey(
    {
      kurVersion: kurVersion(),
      kurUid: settings?.uid ?? process.getuid?.() ?? -1,
      endpoint: engine.endpoint,
    },
    settings?.fs,
  );
  return { cache, key };
}

/** The engine cache's entry for this engine, when it has a fresh one with the current key. */
export async function cachedEngineInfo(
  engine: Engine,
  settings?: EngineCacheSettings | false,
): Promise<CachedEngine | undefined> {
  try {
    const opened = await openCache(engine, settings);
    if (opened === undefined) return undefined;
    return (await opened.cache.get(engine.endpoint.address, opened.key))?.value;
  } catch {
    return undefined;
  }
}

/**
 * Drops this engine's cache entry, so the next run probes again: for a caller that saw the
 * engine refuse what the cached privilege mode said it allows.
 */
export async function forgetEngineInfo(
  engine: Engine,
  settings?: EngineCacheSettings | false,
): Promise<void> {
  memo.delete(engine.endpoint.address);
  const opened = await openCache(engine, settings).catch(() => undefined);
  await opened?.cache.forget(engine.endpoint.address).catch(() => undefined);
}

/**
 * Reads the engine's payloads into facts (no containers started); from the engine cache when
 * it holds this engine (Podman answers /info in about 0.3 s).
 */
export async function readEngineFacts(
  engine: Engine,
  logger: Logger,
  cache?: EngineCacheSettings | false,
): Promise<EngineFacts> {
  const hit = await cachedEngineInfo(engine, cache);
  if (hit !== undefined) return factsOf(hit);
  return readEngineFactsLive(engine, logger);
}

function factsOf(info: CachedEngine): EngineFacts {
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  const { bridgeMtu, privilege, ...facts } = info;
  return facts;
}

async function readEngineFactsLive(engine: Engine, logger: Logger): Promise<EngineFacts> {
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
  const settings = options.builtinProbe === true ? false : options.cache;
  const opened = await openCache(engine, settings).catch((error: unknown) => {
    logger.debug(`engine cache: not used: ${messageOf(error)}`);
    return undefined;
  });
  if (opened !== undefined && options.refresh !== true) {
    const hit = await opened.cache.get(engine.endpoint.address, opened.key).catch(() => undefined);
    if (hit !== undefined) {
      const detectMs = Date.now() - started;
      logger.debug(
        `engine: ${hit.value.provider} ${hit.value.version}, privilege ${hit.value.privilege.kind}, ` +
          `from the engine cache (${Math.round(hit.ageMs / 1000)} s old, ${detectMs} ms)`,
      );
      return { ...hit.value, detectMs, cached: true };
    }
  }
  const facts = await readEngineFactsLive(engine, logger);
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
  const info: CachedEngine = { ...facts, bridgeMtu, privilege };
  // An engine that cannot run nodes is not remembered: the user is about to fix it.
  if (opened !== undefined && privilege.kind !== 'unavailable') {
    await opened.cache
      .set(engine.endpoint.address, opened.key, info)
      .catch((error: unknown) => logger.debug(`engine cache: not written: ${messageOf(error)}`));
  }
  return { ...info, detectMs, cached: false };
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
