import { homedir } from 'node:os';
import { openEngine, probeConnection } from './docker-api.js';
import { resolveEndpoint, type Prober } from './endpoint.js';
import { realHostFs, type HostFs } from './host-fs.js';
import type { Engine } from './types.js';
import type { Logger } from '../util/logger.js';

export interface ConnectOptions {
  /** The --host flag. */
  host?: string | undefined;
  env?: Record<string, string | undefined>;
  logger: Logger;
  uid?: number;
  home?: string;
  fs?: HostFs;
  probe?: Prober;
}

/** Resolves the endpoint (see endpoint.ts for the order) and opens the Engine on it. */
export async function connectEngine(options: ConnectOptions): Promise<Engine> {
  const env = options.env ?? process.env;
  const endpoint = await resolveEndpoint({
    host: options.host,
    env,
    uid: options.uid ?? process.getuid?.() ?? 0,
    home: options.home ?? (env.HOME !== undefined && env.HOME !== '' ? env.HOME : homedir()),
    fs: options.fs ?? realHostFs,
    probe: options.probe ?? probeConnection,
    logger: options.logger,
  });
  return openEngine(endpoint, { logger: options.logger });
}
