import { Agent as HttpAgent, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import type DockerModem from 'docker-modem';
import Dockerode from 'dockerode';
import type { ApiClient, DialOptions, Operation } from './api-client.js';
import { containerOperations } from './container-api.js';
import { providerFromVersion } from './engine-facts.js';
import { imageOperations, networkOperations, systemOperations, volumeOperations } from './object-api.js';
import { asRecord, records, str, type JsonRecord } from './json.js';
import type {
  Connection,
  ContainerOperations,
  Engine,
  ImageOperations,
  NetworkOperations,
  ProbeResult,
  ResolvedEndpoint,
  SystemOperations,
  VolumeOperations,
} from './types.js';
import { KurError, messageOf } from '../util/errors.js';
import { silentLogger, type Logger } from '../util/logger.js';

/**
 * The one module that talks the Engine API through dockerode's modem. Requests are pinned to
 * the API version the engine reports (capped at the newest kur knows), so Docker 20.10 (1.41)
 * and Podman's compat API (1.41) get the request shapes they expect. Every failure becomes a
 * KurError naming the operation and the object, with the engine's own message as detail.
 */

/** Newest API version whose shapes kur relies on; newer engines are asked in this dialect. */
export const maxApiVersion = '1.45';

const probeTimeoutMs = 5000;

function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i += 1) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

export function pinnedApiVersion(serverApiVersion: string): string | undefined {
  if (!/^\d+\.\d+$/.test(serverApiVersion)) return undefined;
  return compareVersions(serverApiVersion, maxApiVersion) > 0 ? maxApiVersion : serverApiVersion;
}

/**
 * Dockerode's modem reads DOCKER_HOST and friends from the process environment as defaults; every
 * connection field is set here so the endpoint kur resolved is the one used.
 */
function modemOptions(
  connection: Connection,
  extra: { version?: string; timeoutMs?: number; agent?: HttpAgent },
): Dockerode.DockerOptions & { agent?: HttpAgent; pathPrefix?: string } {
  const base = {
    socketPath: undefined,
    host: undefined,
    port: undefined,
    protocol: 'http' as const,
    ca: undefined,
    cert: undefined,
    key: undefined,
    pathPrefix: '/',
    version: extra.version,
    timeout: extra.timeoutMs,
    agent: extra.agent,
  };
  if (connection.kind === 'unix') return { ...base, socketPath: connection.socketPath };
  const tls = connection.tls;
  return {
    ...base,
    host: connection.host,
    port: connection.port,
    protocol: tls === undefined ? 'http' : 'https',
    ca: tls?.ca,
    cert: tls?.cert,
    key: tls?.key,
  };
}

/**
 * The modem also parses DOCKER_HOST (and reads DOCKER_CERT_PATH's files) while it is constructed,
 * and throws when they are malformed or missing, even though every field it would take from them
 * is overridden: hide DOCKER_HOST for the duration, so `--host` works whatever DOCKER_HOST says.
 */
function newModem(options: ReturnType<typeof modemOptions>): DockerModem {
  const saved = process.env.DOCKER_HOST;
  delete process.env.DOCKER_HOST;
  try {
    return new Dockerode(options).modem;
  } finally {
    if (saved !== undefined) process.env.DOCKER_HOST = saved;
  }
}

function agentFor(connection: Connection): HttpAgent {
  if (connection.kind === 'tcp' && connection.tls !== undefined) {
    const tls = connection.tls;
    return new HttpsAgent({
      keepAlive: true,
      ca: tls.ca,
      cert: tls.cert,
      key: tls.key,
      rejectUnauthorized: tls.insecure !== true,
    });
  }
  return new HttpAgent({ keepAlive: true });
}

function dialRaw(modem: DockerModem, options: DialOptions): Promise<unknown> {
  return new Promise((resolve, reject) => {
    modem.dial(options, (error, result) => (error === null ? resolve(result) : reject(error)));
  });
}

interface ModemError extends Error {
  statusCode?: number;
  json?: unknown;
  code?: string;
}

/** The engine's own words for a failed request, or a plain description of a transport error. */
export function engineMessage(error: unknown): string {
  const e = error as ModemError;
  const json = asRecord(e.json);
  const fromJson = str(json?.message) || str(json?.cause);
  if (fromJson !== '') return fromJson;
  if (Buffer.isBuffer(e.json) && e.json.length > 0) return e.json.toString('utf8').trim();
  switch (e.code) {
    case 'ECONNREFUSED':
      return 'connection refused: nothing listens there';
    case 'ENOENT':
      return 'no socket there';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied (this user may not use that socket)';
    case 'ECONNRESET':
      return 'the engine closed the connection';
    case 'ETIMEDOUT':
      return 'connection timed out';
    default:
      return messageOf(error)
        .replace(/^\(HTTP code \d+\) [^-]*- /, '')
        .trim();
  }
}

function toKurError(op: Operation, error: unknown, address: string): KurError {
  if (error instanceof KurError) return error;
  const status = (error as ModemError).statusCode;
  const detail = engineMessage(error);
  // Podman answers some conflicts (a name in use) with 500 rather than 409, and an object removed
  // while it is being inspected with 500 "no such container" rather than 404.
  const conflict = status === 409 || (status === 500 && /already (in use|exists)/i.test(detail));
  const gone = status === 404 || (status === 500 && /no such (container|image|volume|network)/i.test(detail));
  const kind = gone ? 'notFound' : conflict ? 'conflict' : 'engine';
  const hint =
    status === undefined ? `is the engine at ${address} still running? \`kur info\` checks it.` : undefined;
  return new KurError(kind, `cannot ${op.action} ${op.object}`, { detail, hint, cause: error });
}

const ok = { 200: true, 201: true, 204: true, 304: true } as const;

/** Asks an endpoint `/_ping` and `/version` with a short timeout; rejects with a short reason. */
export async function probeConnection(connection: Connection): Promise<ProbeResult> {
  const agent = agentFor(connection);
  const modem = newModem(modemOptions(connection, { timeoutMs: probeTimeoutMs, agent }));
  try {
    let pong: unknown;
    try {
      pong = await dialRaw(modem, { path: '/_ping', method: 'GET', statusCodes: { 200: true } });
    } catch (error) {
      throw new Error(describeProbeFailure(error), { cause: error });
    }
    const text = Buffer.isBuffer(pong) ? pong.toString('utf8') : String(pong);
    if (text.trim() !== 'OK')
      throw new Error(`answered /_ping with "${text.slice(0, 80)}": not a container engine`);
    let version: unknown;
    try {
      version = await dialRaw(modem, { path: '/version', method: 'GET', statusCodes: { 200: true } });
    } catch (error) {
      throw new Error(`/_ping answered but /version failed: ${describeProbeFailure(error)}`, {
        cause: error,
      });
    }
    const payload = asRecord(version);
    if (payload === undefined) throw new Error('/version did not return JSON');
    return {
      provider: providerFromVersion(payload),
      version: str(payload.Version, 'unknown'),
      apiVersion: str(payload.ApiVersion, 'unknown'),
      versionPayload: payload,
    };
  } finally {
    agent.destroy();
  }
}

function describeProbeFailure(error: unknown): string {
  const e = error as ModemError;
  if (e.statusCode !== undefined) return `HTTP ${e.statusCode}: ${engineMessage(error)}`;
  if (e.code === undefined && /socket hang up|aborted/i.test(messageOf(error))) {
    return `no answer within ${probeTimeoutMs / 1000}s`;
  }
  return engineMessage(error);
}

export interface OpenEngineOptions {
  logger?: Logger;
}

/** Opens the Engine interface on a resolved (probed) endpoint. */
export function openEngine(endpoint: ResolvedEndpoint, options: OpenEngineOptions = {}): Engine {
  return new DockerApiEngine(endpoint, options.logger ?? silentLogger);
}

class DockerApiEngine implements Engine, ApiClient {
  readonly containers: ContainerOperations;
  readonly networks: NetworkOperations;
  readonly volumes: VolumeOperations;
  readonly images: ImageOperations;
  readonly system: SystemOperations;
  private readonly modem: DockerModem;
  /** Podman's libpod endpoints are not under the compat version prefix. */
  private readonly unversioned: DockerModem;
  private readonly agent: HttpAgent;

  constructor(
    readonly endpoint: ResolvedEndpoint,
    private readonly logger: Logger,
  ) {
    this.agent = agentFor(endpoint.connection);
    const pinned = pinnedApiVersion(endpoint.apiVersion);
    const version = pinned === undefined ? undefined : `v${pinned}`;
    this.modem = newModem(modemOptions(endpoint.connection, { version, agent: this.agent }));
    this.unversioned = newModem(modemOptions(endpoint.connection, { agent: this.agent }));
    this.containers = containerOperations(this);
    this.networks = networkOperations(this);
    this.volumes = volumeOperations(this);
    this.images = imageOperations(this);
    this.system = systemOperations(this);
  }

  close(): void {
    this.agent.destroy();
  }

  async call(op: Operation, options: DialOptions, route?: 'unversioned'): Promise<unknown> {
    const modem = route === 'unversioned' ? this.unversioned : this.modem;
    this.logger.debug(
      `engine: ${options.method ?? 'GET'} ${options.path.replace(/\?$/, '')} (${op.action} ${op.object})`,
    );
    try {
      return await dialRaw(modem, { statusCodes: { ...ok }, ...options });
    } catch (error) {
      throw toKurError(op, error, this.endpoint.address);
    }
  }

  async json(op: Operation, options: DialOptions): Promise<JsonRecord> {
    const result = await this.call(op, options);
    const record = asRecord(result);
    if (record === undefined)
      throw new KurError('engine', `cannot ${op.action} ${op.object}: unexpected answer`);
    return record;
  }

  async jsonList(op: Operation, options: DialOptions): Promise<JsonRecord[]> {
    const result = await this.call(op, options);
    if (!Array.isArray(result))
      throw new KurError('engine', `cannot ${op.action} ${op.object}: unexpected answer`);
    return records(result);
  }

  async stream(op: Operation, options: DialOptions, route?: 'unversioned'): Promise<IncomingMessage> {
    return (await this.call(op, { ...options, isStream: true }, route)) as IncomingMessage;
  }

  fail(op: Operation, error: unknown): KurError {
    return toKurError(op, error, this.endpoint.address);
  }
}
