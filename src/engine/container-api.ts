import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import {
  containerCreateBody,
  labelFilters,
  matchesLabels,
  parseContainerInfo,
  parseContainerSummary,
} from './api-mapping.js';
import { libpodApiVersion, type ApiClient, type Operation } from './api-client.js';
import { Demuxer, type OutputStream } from './demux.js';
import { asRecord, num, str } from './json.js';
import { podmanCreateBody } from './podman-spec.js';
import type { ContainerOperations, ExecOptions, ExecResult } from './types.js';
import { KurError } from '../util/errors.js';

const c = (id: string): string => `container "${id}"`;
const path = (id: string, rest = ''): string => `/containers/${encodeURIComponent(id)}${rest}`;

/** Containers through the Engine API: create (libpod's create on Podman), lifecycle, exec, archives. */
export function containerOperations(api: ApiClient): ContainerOperations {
  return { ...lifecycle(api), ...contents(api) };
}

type Lifecycle = Omit<ContainerOperations, 'logs' | 'exec' | 'putArchive' | 'getArchive'>;

function lifecycle(api: ApiClient): Lifecycle {
  return {
    create: async (spec) => {
      const op = { action: 'create', object: c(spec.name) };
      if (api.endpoint.provider === 'podman') {
        // libpod's create keeps the fields Podman's compat create drops (see podman-spec.ts).
        const path = `/v${libpodApiVersion(api.endpoint.versionPayload)}/libpod/containers/create`;
        const created = asRecord(
          await api.call(op, { path, method: 'POST', options: podmanCreateBody(spec) }, 'unversioned'),
        );
        return str(created?.Id);
      }
      const body = containerCreateBody(spec);
      const created = await api.json(op, {
        path: '/containers/create?',
        method: 'POST',
        options: { _query: { name: spec.name }, _body: body },
      });
      return str(created.Id);
    },
    start: async (id) => {
      await api.call({ action: 'start', object: c(id) }, { path: path(id, '/start'), method: 'POST' });
    },
    stop: async (id, options = {}) => {
      const query = options.timeoutSeconds === undefined ? {} : { t: options.timeoutSeconds };
      await api.call(
        { action: 'stop', object: c(id) },
        { path: path(id, '/stop?'), method: 'POST', options: { _query: query, _body: {} } },
      );
    },
    kill: async (id, signal = 'SIGKILL') => {
      await api.call(
        { action: `send ${signal} to`, object: c(id) },
        { path: path(id, '/kill?'), method: 'POST', options: { _query: { signal }, _body: {} } },
      );
    },
    remove: async (id, options = {}) => {
      await api.call(
        { action: 'remove', object: c(id) },
        {
          path: path(id, '?'),
          method: 'DELETE',
          options: { force: options.force === true, v: options.volumes === true },
        },
      );
    },
    inspect: async (id) =>
      parseContainerInfo(await api.json({ action: 'inspect', object: c(id) }, { path: path(id, '/json') })),
    list: async (options = {}) => {
      const query = { all: options.all !== false, filters: labelFilters(options.labels) };
      const list = await api.jsonList(
        { action: 'list', object: 'containers' },
        { path: '/containers/json?', options: query },
      );
      return list.map(parseContainerSummary).filter((c) => matchesLabels(c.labels, options.labels));
    },
    wait: async (id, condition = 'not-running') => {
      const result = await api.json(
        { action: 'wait for', object: c(id) },
        { path: path(id, '/wait?'), method: 'POST', options: { _query: { condition }, _body: {} } },
      );
      return num(result.StatusCode, -1);
    },
  };
}

/** What goes in and out of a container: logs, commands, files. */
function contents(api: ApiClient): Omit<ContainerOperations, keyof Lifecycle> {
  return {
    logs: async (id, options = {}) => {
      const query: Record<string, string | number | boolean> = { stdout: true, stderr: true };
      if (options.tail !== undefined) query.tail = options.tail;
      if (options.since !== undefined) query.since = options.since;
      if (options.timestamps === true) query.timestamps = true;
      const response = await api.stream(
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
    exec: (id, options) => exec(api, id, options),
    putArchive: async (id, target, tar) => {
      await api.call(
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
      api.stream(
        { action: `copy ${source} out of`, object: c(id) },
        { path: path(id, '/archive?'), options: { path: source } },
      ),
  };
}

async function exec(api: ApiClient, id: string, options: ExecOptions): Promise<ExecResult> {
  const object = `container "${id}"`;
  const command = options.cmd.join(' ');
  const op = { action: `run \`${truncate(command)}\` in`, object };
  const hasStdin = options.stdin !== undefined;
  const { execId, started } = await startExec(api, id, options, op);

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
    throw api.fail(op, error);
  } finally {
    if (timer !== undefined) clearTimeout(timer);
  }
  demux.end();
  const exitCode = await execExitCode(api, execId, op);
  const result = {
    exitCode,
    stdout: Buffer.concat(output.stdout).toString('utf8'),
    stderr: Buffer.concat(output.stderr).toString('utf8'),
  };
  if (options.check === true && exitCode !== 0) {
    throw new KurError('command', `\`${truncate(command)}\` failed in ${object} with exit code ${exitCode}`, {
      detail: joinOutput(output.stdout, output.stderr),
    });
  }
  return result;
}

/** Creates the exec instance and starts it attached: its output stream (and stdin, when given). */
async function startExec(
  api: ApiClient,
  id: string,
  options: ExecOptions,
  op: Operation,
): Promise<{ execId: string; started: Readable | Socket }> {
  const hasStdin = options.stdin !== undefined;
  const created = await api.json(op, {
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
  const started = (await api.call(op, {
    path: `/exec/${execId}/start`,
    method: 'POST',
    isStream: true,
    hijack: hasStdin,
    options: { Detach: false, Tty: false },
  })) as Readable | Socket;
  return { execId, started };
}

/** The exit code once the engine has recorded it; the output stream can end a moment earlier. */
async function execExitCode(api: ApiClient, execId: string, op: Operation): Promise<number> {
  for (let attempt = 0; ; attempt += 1) {
    const inspected = await api.json(op, { path: `/exec/${execId}/json` });
    if (inspected.Running !== true && typeof inspected.ExitCode === 'number') return inspected.ExitCode;
    if (attempt >= 50) {
      throw new KurError('engine', `cannot ${op.action} ${op.object}: the engine reports no exit code`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20 + attempt * 10));
  }
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
