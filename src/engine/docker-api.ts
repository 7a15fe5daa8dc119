import { Agent as HttpAgent, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import type DockerModem from 'docker-modem';
import Dockerode from 'dockerode';
import {
  containerCreateBody,
  labelFilters,
  matchesLabels,
  networkCreateBody,
  parseContainerInfo,
  parseContainerSummary,
  parseImageInfo,
  parseImageSummary,
  parseLoadOutput,
  parseNetworkInfo,
  parseVolumeInfo,
  splitReference,
} from './api-mapping.js';
import { Demuxer, type OutputStream } from './demux.js';
import { providerFromVersion } from './engine-facts.js';
import { podmanCreateBody } from './podman-spec.js';
import { asRecord, num, records, str, type JsonRecord } from './json.js';
import type {
  Connection,
  ContainerOperations,
  Engine,
  ExecOptions,
  ExecResult,
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

type DialOptions = DockerModem.DialOptions;

interface Operation {
  /** Verb phrase: `create`, `start`, `load`. */
  action: string;
  /** `container "kur-control-plane"`, `image archive`. */
  object: string;
}

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
  // Podman answers some conflicts (a name in use) with 500 rather than 409.
  const conflict = status === 409 || (status === 500 && /already (in use|exists)/i.test(detail));
  const kind = status === 404 ? 'notFound' : conflict ? 'conflict' : 'engine';
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

class DockerApiEngine implements Engine {
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
    this.containers = this.containerOperations();
    this.networks = this.networkOperations();
    this.volumes = this.volumeOperations();
    this.images = this.imageOperations();
    this.system = this.systemOperations();
  }

  close(): void {
    this.agent.destroy();
  }

  private async call(op: Operation, options: DialOptions, modem = this.modem): Promise<unknown> {
    this.logger.debug(
      `engine: ${options.method ?? 'GET'} ${options.path.replace(/\?$/, '')} (${op.action} ${op.object})`,
    );
    try {
      return await dialRaw(modem, { statusCodes: { ...ok }, ...options });
    } catch (error) {
      throw toKurError(op, error, this.endpoint.address);
    }
  }

  private async json(op: Operation, options: DialOptions): Promise<JsonRecord> {
    const result = await this.call(op, options);
    const record = asRecord(result);
    if (record === undefined)
      throw new KurError('engine', `cannot ${op.action} ${op.object}: unexpected answer`);
    return record;
  }

  private async jsonList(op: Operation, options: DialOptions): Promise<JsonRecord[]> {
    const result = await this.call(op, options);
    if (!Array.isArray(result))
      throw new KurError('engine', `cannot ${op.action} ${op.object}: unexpected answer`);
    return records(result);
  }

  private async stream(op: Operation, options: DialOptions): Promise<IncomingMessage> {
    return (await this.call(op, { ...options, isStream: true })) as IncomingMessage;
  }

  private containerOperations(): ContainerOperations {
    const c = (id: string) => `container "${id}"`;
    const path = (id: string, rest = '') => `/containers/${encodeURIComponent(id)}${rest}`;
    return {
      create: async (spec) => {
        const op = { action: 'create', object: c(spec.name) };
        if (this.endpoint.provider === 'podman') {
          // libpod's create keeps the fields Podman's compat create drops (see podman-spec.ts).
          const path = `/v${libpodApiVersion(this.endpoint.versionPayload)}/libpod/containers/create`;
          const created = asRecord(
            await this.call(op, { path, method: 'POST', options: podmanCreateBody(spec) }, this.unversioned),
          );
          return str(created?.Id);
        }
        const body = containerCreateBody(spec);
        const created = await this.json(op, {
          path: '/containers/create?',
          method: 'POST',
          options: { _query: { name: spec.name }, _body: body },
        });
        return str(created.Id);
      },
      start: async (id) => {
        await this.call({ action: 'start', object: c(id) }, { path: path(id, '/start'), method: 'POST' });
      },
      stop: async (id, options = {}) => {
        const query = options.timeoutSeconds === undefined ? {} : { t: options.timeoutSeconds };
        await this.call(
          { action: 'stop', object: c(id) },
          { path: path(id, '/stop?'), method: 'POST', options: { _query: query, _body: {} } },
        );
      },
      kill: async (id, signal = 'SIGKILL') => {
        await this.call(
          { action: `send ${signal} to`, object: c(id) },
          { path: path(id, '/kill?'), method: 'POST', options: { _query: { signal }, _body: {} } },
        );
      },
      remove: async (id, options = {}) => {
        await this.call(
          { action: 'remove', object: c(id) },
          {
            path: path(id, '?'),
            method: 'DELETE',
            options: { force: options.force === true, v: options.volumes === true },
          },
        );
      },
      inspect: async (id) =>
        parseContainerInfo(
          await this.json({ action: 'inspect', object: c(id) }, { path: path(id, '/json') }),
        ),
      list: async (options = {}) => {
        const query = { all: options.all !== false, filters: labelFilters(options.labels) };
        const list = await this.jsonList(
          { action: 'list', object: 'containers' },
          { path: '/containers/json?', options: query },
        );
        return list.map(parseContainerSummary).filter((c) => matchesLabels(c.labels, options.labels));
      },
      wait: async (id, condition = 'not-running') => {
        const result = await this.json(
          { action: 'wait for', object: c(id) },
          { path: path(id, '/wait?'), method: 'POST', options: { _query: { condition }, _body: {} } },
        );
        return num(result.StatusCode, -1);
      },
      logs: async (id, options = {}) => {
        const query: Record<string, string | number | boolean> = { stdout: true, stderr: true };
        if (options.tail !== undefined) query.tail = options.tail;
        if (options.since !== undefined) query.since = options.since;
        if (options.timestamps === true) query.timestamps = true;
        const response = await this.stream(
          { action: 'read the logs of', object: c(id) },
          { path: path(id, '/logs?'), options: query },
        );
        const out = { stdout: [] as Buffer[], stderr: [] as Buffer[] };
        const demux = new Demuxer((s, data) => out[s].push(data));
        for await (const chunk of response as AsyncIterable<Buffer>) demux.push(chunk);
        demux.end();
        return {
          stdout: Buffer.concat(out.stdout).toString('utf8'),
          stderr: Buffer.concat(out.stderr).toString('utf8'),
        };
      },
      exec: (id, options) => this.exec(id, options),
      putArchive: async (id, target, tar) => {
        await this.call(
          { action: `copy files to ${target} in`, object: c(id) },
          {
            path: path(id, '/archive?'),
            method: 'PUT',
            file: tar,
            headers: { 'Content-Type': 'application/x-tar' },
            options: { path: target },
          },
        );
      },
      getArchive: async (id, source) =>
        this.stream(
          { action: `copy ${source} out of`, object: c(id) },
          { path: path(id, '/archive?'), options: { path: source } },
        ),
    };
  }

  private async exec(id: string, options: ExecOptions): Promise<ExecResult> {
    const object = `container "${id}"`;
    const command = options.cmd.join(' ');
    const op = { action: `run \`${truncate(command)}\` in`, object };
    const hasStdin = options.stdin !== undefined;
    const created = await this.json(op, {
      path: `/containers/${encodeURIComponent(id)}/exec`,
      method: 'POST',
      options: {
        AttachStdin: hasStdin,
        AttachStdout: true,
        AttachStderr: true,
        Tty: false,
        Cmd: options.cmd,
        Env: options.env === undefined ? undefined : Object.entries(options.env).map(([k, v]) => `${k}=${v}`),
        User: options.user,
        WorkingDir: options.workingDir,
        Privileged: options.privileged === true,
      },
    });
    const execId = str(created.Id);
    const started = (await this.call(op, {
      path: `/exec/${execId}/start`,
      method: 'POST',
      isStream: true,
      hijack: hasStdin,
      options: { Detach: false, Tty: false },
    })) as Readable | Socket;

    const output = { stdout: [] as Buffer[], stderr: [] as Buffer[] };
    const demux = new Demuxer((stream: OutputStream, data: Buffer) => {
      output[stream].push(data);
      options.onOutput?.(stream, data);
    });
    const collect = new Promise<void>((resolve, reject) => {
      started.on('data', (chunk: Buffer) => demux.push(chunk));
      started.on('end', resolve);
      started.on('close', resolve);
      started.on('error', reject);
    });
    if (hasStdin) void writeStdin(started as Socket, options.stdin!);

    let timer: NodeJS.Timeout | undefined;
    const timeout =
      options.timeoutMs === undefined
        ? undefined
        : new Promise<never>((_, reject) => {
            timer = setTimeout(() => {
              started.destroy();
              reject(
                new KurError(
                  'timeout',
                  `\`${truncate(command)}\` in ${object} did not finish within ${options.timeoutMs} ms`,
                  {
                    detail: joinOutput(output.stdout, output.stderr),
                  },
                ),
              );
            }, options.timeoutMs);
          });
    try {
      await (timeout === undefined ? collect : Promise.race([collect, timeout]));
    } catch (error) {
      throw toKurError(op, error, this.endpoint.address);
    } finally {
      if (timer !== undefined) clearTimeout(timer);
    }
    demux.end();
    const exitCode = await this.execExitCode(execId, op);
    const result = {
      exitCode,
      stdout: Buffer.concat(output.stdout).toString('utf8'),
      stderr: Buffer.concat(output.stderr).toString('utf8'),
    };
    if (options.check === true && exitCode !== 0) {
      throw new KurError(
        'command',
        `\`${truncate(command)}\` failed in ${object} with exit code ${exitCode}`,
        {
          detail: joinOutput(output.stdout, output.stderr),
        },
      );
    }
    return result;
  }

  /** The exit code once the engine has recorded it; the output stream can end a moment earlier. */
  private async execExitCode(execId: string, op: Operation): Promise<number> {
    for (let attempt = 0; ; attempt += 1) {
      const inspected = await this.json(op, { path: `/exec/${execId}/json` });
      if (inspected.Running !== true && typeof inspected.ExitCode === 'number') return inspected.ExitCode;
      if (attempt >= 50) {
        throw new KurError('engine', `cannot ${op.action} ${op.object}: the engine reports no exit code`);
      }
      await new Promise((resolve) => setTimeout(resolve, 20 + attempt * 10));
    }
  }

  private networkOperations(): NetworkOperations {
    const n = (name: string) => `network "${name}"`;
    const path = (name: string, rest = '') => `/networks/${encodeURIComponent(name)}${rest}`;
    return {
      create: async (spec) => {
        const created = await this.json(
          { action: 'create', object: n(spec.name) },
          { path: '/networks/create', method: 'POST', options: networkCreateBody(spec) },
        );
        return str(created.Id);
      },
      remove: async (name) => {
        await this.call({ action: 'remove', object: n(name) }, { path: path(name), method: 'DELETE' });
      },
      inspect: async (name) =>
        parseNetworkInfo(await this.json({ action: 'inspect', object: n(name) }, { path: path(name) })),
      list: async (options = {}) => {
        const list = await this.jsonList(
          { action: 'list', object: 'networks' },
          { path: '/networks?', options: { filters: labelFilters(options.labels) } },
        );
        return list.map(parseNetworkInfo).filter((n) => matchesLabels(n.labels, options.labels));
      },
      connect: async (network, container, options = {}) => {
        const ipam =
          options.ipv4Address === undefined && options.ipv6Address === undefined
            ? undefined
            : { IPv4Address: options.ipv4Address, IPv6Address: options.ipv6Address };
        await this.call(
          { action: `connect container "${container}" to`, object: n(network) },
          {
            path: path(network, '/connect'),
            method: 'POST',
            options: { Container: container, EndpointConfig: { Aliases: options.aliases, IPAMConfig: ipam } },
          },
        );
      },
      disconnect: async (network, container, options = {}) => {
        await this.call(
          { action: `disconnect container "${container}" from`, object: n(network) },
          {
            path: path(network, '/disconnect'),
            method: 'POST',
            options: { Container: container, Force: options.force === true },
          },
        );
      },
    };
  }

  private volumeOperations(): VolumeOperations {
    const v = (name: string) => `volume "${name}"`;
    const path = (name: string, rest = '') => `/volumes/${encodeURIComponent(name)}${rest}`;
    return {
      create: async (spec) =>
        parseVolumeInfo(
          await this.json(
            { action: 'create', object: spec.name === undefined ? 'a volume' : v(spec.name) },
            {
              path: '/volumes/create',
              method: 'POST',
              options: { Name: spec.name, Labels: spec.labels ?? {} },
            },
          ),
        ),
      inspect: async (name) =>
        parseVolumeInfo(await this.json({ action: 'inspect', object: v(name) }, { path: path(name) })),
      list: async (options = {}) => {
        const result = await this.json(
          { action: 'list', object: 'volumes' },
          { path: '/volumes?', options: { filters: labelFilters(options.labels) } },
        );
        return records(result.Volumes)
          .map(parseVolumeInfo)
          .filter((v) => matchesLabels(v.labels, options.labels));
      },
      remove: async (name, options = {}) => {
        await this.call(
          { action: 'remove', object: v(name) },
          { path: path(name, '?'), method: 'DELETE', options: { force: options.force === true } },
        );
      },
    };
  }

  private imageOperations(): ImageOperations {
    const i = (name: string) => `image "${name}"`;
    return {
      inspect: async (reference) =>
        parseImageInfo(
          await this.json(
            { action: 'inspect', object: i(reference) },
            { path: `/images/${encodeURIComponent(reference)}/json` },
          ),
        ),
      load: async (tar) => {
        const op = { action: 'load', object: 'an image archive' };
        const response = await this.stream(op, {
          path: '/images/load?',
          method: 'POST',
          file: tar,
          headers: { 'Content-Type': 'application/x-tar' },
          options: { quiet: true },
        });
        const chunks: Buffer[] = [];
        for await (const chunk of response as AsyncIterable<Buffer>) chunks.push(chunk);
        const { names, error } = parseLoadOutput(Buffer.concat(chunks).toString('utf8'));
        if (error !== undefined)
          throw new KurError('engine', `cannot ${op.action} ${op.object}`, { detail: error });
        return names;
      },
      save: async (references) =>
        this.stream(
          { action: 'save', object: references.map(i).join(', ') },
          { path: '/images/get?', options: { names: references } },
        ),
      tag: async (source, target) => {
        const { repo, tag } = splitReference(target);
        await this.call(
          { action: `tag ${target} as`, object: i(source) },
          {
            path: `/images/${encodeURIComponent(source)}/tag?`,
            method: 'POST',
            options: { _query: { repo, tag }, _body: {} },
          },
        );
      },
      remove: async (reference, options = {}) => {
        await this.call(
          { action: 'remove', object: i(reference) },
          {
            path: `/images/${encodeURIComponent(reference)}?`,
            method: 'DELETE',
            options: { force: options.force === true },
          },
        );
      },
      list: async (options = {}) => {
        const list = await this.jsonList(
          { action: 'list', object: 'images' },
          { path: '/images/json?', options: { filters: labelFilters(options.labels) } },
        );
        return list.map(parseImageSummary).filter((i) => matchesLabels(i.labels, options.labels));
      },
    };
  }

  private systemOperations(): SystemOperations {
    const op = (what: string) => ({ action: 'read', object: `the engine's ${what}` });
    return {
      ping: async () => {
        await this.call(op('/_ping'), { path: '/_ping' });
      },
      version: () => this.json(op('/version'), { path: '/version' }),
      info: () => this.json(op('/info'), { path: '/info' }),
      libpodInfo: async () => {
        if (this.endpoint.provider !== 'podman') return undefined;
        // Podman 4 serves libpod routes only under a version prefix, in its own (4.x) numbering.
        const version = libpodApiVersion(this.endpoint.versionPayload);
        const path = `/v${version}/libpod/info`;
        return asRecord(await this.call(op('/libpod/info'), { path }, this.unversioned));
      },
    };
  }
}

function libpodApiVersion(version: JsonRecord): string {
  const podman = records(version.Components).find((c) => /podman/i.test(str(c.Name)));
  const declared = str(asRecord(podman?.Details)?.APIVersion);
  return /^\d+\.\d+\.\d+$/.test(declared) ? declared : '4.0.0';
}

async function writeStdin(socket: Socket, stdin: string | Buffer | Readable): Promise<void> {
  try {
    if (typeof stdin === 'string' || Buffer.isBuffer(stdin)) {
      socket.end(stdin);
      return;
    }
    for await (const chunk of stdin as AsyncIterable<Buffer | string>) {
      if (!socket.write(chunk)) await new Promise((resolve) => socket.once('drain', resolve));
    }
    // Half-close: the engine then closes the command's stdin while output keeps flowing back.
    socket.end();
  } catch (error) {
    socket.destroy(error as Error);
  }
}

function joinOutput(stdout: Buffer[], stderr: Buffer[]): string {
  return [Buffer.concat(stdout).toString('utf8'), Buffer.concat(stderr).toString('utf8')]
    .filter((s) => s.trim() !== '')
    .join('\n');
}

function truncate(text: string, max = 80): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
