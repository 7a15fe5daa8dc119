import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { HostFs } from './host-fs.js';
import { asRecord, parseJsonObject } from './json.js';
import type { TlsMaterial } from './types.js';

/**
 * Docker CLI contexts, read the way the docker CLI stores them: the current context comes from
 * DOCKER_CONTEXT, else `currentContext` in `$DOCKER_CONFIG/config.json`; its endpoint lives in
 * `contexts/meta/<sha256 of the name>/meta.json`, its TLS files in `contexts/tls/<same>/docker/`.
 */
export interface DockerContext {
  name: string;
  /** Where the name came from, for messages. */
  selectedBy: 'DOCKER_CONTEXT' | 'config.json';
  /** The docker endpoint's Host, undefined when the context has none. */
  host: string | undefined;
  tls: TlsMaterial | undefined;
}

export function dockerConfigDir(env: Record<string, string | undefined>, home: string): string {
  const configured = env.DOCKER_CONFIG;
  return configured !== undefined && configured !== '' ? configured : join(home, '.docker');
}

/** The context to use, or undefined for the implicit "default" context. Throws when files are malformed. */
export async function currentDockerContext(
  env: Record<string, string | undefined>,
  home: string,
  fs: HostFs,
): Promise<DockerContext | undefined> {
  const configDir = dockerConfigDir(env, home);
  let name: string | undefined;
  let selectedBy: DockerContext['selectedBy'] = 'DOCKER_CONTEXT';
  if (env.DOCKER_CONTEXT !== undefined && env.DOCKER_CONTEXT !== '') {
    name = env.DOCKER_CONTEXT;
  } else {
    const configFile = join(configDir, 'config.json');
    const raw = await fs.readFile(configFile);
    if (raw === undefined) return undefined;
    const config = parseJsonObject(raw.toString('utf8'), configFile);
    const current = config.currentContext;
    if (typeof current === 'string' && current !== '') {
      name = current;
      selectedBy = 'config.json';
    }
  }
  if (name === undefined || name === 'default') return undefined;

  const id = createHash('sha256').update(name).digest('hex');
  const metaFile = join(configDir, 'contexts', 'meta', id, 'meta.json');
  const metaRaw = await fs.readFile(metaFile);
  if (metaRaw === undefined) {
    throw new Error(`docker context "${name}" (from ${selectedBy}) does not exist: no ${metaFile}`);
  }
  const meta = parseJsonObject(metaRaw.toString('utf8'), metaFile);
  const endpoints = asRecord(meta.Endpoints);
  const docker = asRecord(endpoints?.docker);
  const host = typeof docker?.Host === 'string' && docker.Host !== '' ? docker.Host : undefined;
  const tlsDir = join(configDir, 'contexts', 'tls', id, 'docker');
  const [ca, cert, key] = await Promise.all(
    ['ca.pem', 'cert.pem', 'key.pem'].map((file) => fs.readFile(join(tlsDir, file))),
  );
  const insecure = docker?.SkipTLSVerify === true;
  const hasTls = ca !== undefined || cert !== undefined || key !== undefined || insecure;
  const tls: TlsMaterial | undefined = hasTls ? { ca, cert, key, insecure } : undefined;
  return { name, selectedBy, host, tls };
}
