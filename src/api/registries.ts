import {
  createRegistry as createRegistryCore,
  deleteRegistry as deleteRegistryCore,
  listRegistries,
  type DeletedRegistry,
} from '../cluster/registry/registries.js';
import type { RegistryRecord } from '../cluster/registry/spec.js';
import { callEnv, callLogger, throwIfCancelled, withEngine, type EngineOptions } from './common.js';

export interface CreateRegistryOptions extends EngineOptions {
  /** Registry (and container) name, a DNS label. Default `kur-registry`, like the CLI. */
  name?: string;
  /** Host port on 127.0.0.1. Default 5000 when free, else a free port chosen under the engine lock. */
  port?: number;
  /** Aborting removes whatever the call made. */
  signal?: AbortSignal;
}

/**
 * A local registry, like `kur create registry`: Distribution in a container published on
 * 127.0.0.1:<port>, on the kur network, its images in a named volume. Push to
 * `localhost:<port>/…` from the host; clusters created with `registries: [name]` pull those
 * names through it. Builds the registry image (Go) the first time.
 */
export function createRegistry(options: CreateRegistryOptions = {}): Promise<RegistryRecord> {
  throwIfCancelled(options.signal, 'createRegistry');
  const logger = callLogger(options);
  return withEngine(options, (engine) =>
    createRegistryCore({
      engine,
      logger,
      // The first create compiles the registry (minutes): say what it does meanwhile.
      onStatus: (text) => logger.info(text),
      env: callEnv(options),
      ...(options.name !== undefined ? { name: options.name } : {}),
      ...(options.port !== undefined ? { port: options.port } : {}),
      ...(options.signal !== undefined ? { signal: options.signal } : {}),
    }),
  );
}

export interface DeleteRegistryOptions extends EngineOptions {
  name?: string;
  /** Delete even when clusters pull through it. */
  force?: boolean;
}

/** Removes a local registry's container and volume, like `kur delete registry`. */
export function deleteRegistry(options: DeleteRegistryOptions = {}): Promise<DeletedRegistry> {
  return withEngine(options, (engine) =>
    deleteRegistryCore({
      engine,
      logger: callLogger(options),
      env: callEnv(options),
      ...(options.name !== undefined ? { name: options.name } : {}),
      ...(options.force !== undefined ? { force: options.force } : {}),
    }),
  );
}

/** Every local registry on the engine, like `kur get registries`. */
export function getRegistries(options: EngineOptions = {}): Promise<RegistryRecord[]> {
  return withEngine(options, (engine) => listRegistries(engine));
}
