import {
  labelFilters,
  matchesLabels,
  networkCreateBody,
  parseImageInfo,
  parseImageSummary,
  parseLoadOutput,
  parseNetworkInfo,
  parseVolumeInfo,
  referenceHost,
  splitReference,
} from './api-mapping.js';
import { libpodApiVersion, type ApiClient, type DialOptions, type Operation } from './api-client.js';
import { TransferTracker } from './transfer-progress.js';
import { asRecord, records, str } from './json.js';
import { KurError } from '../util/errors.js';
import type {
  ImageOperations,
  NetworkOperations,
  SystemOperations,
  TransferOptions,
  TransferResult,
  VolumeOperations,
} from './types.js';

/** Networks, volumes, images and the system endpoints through the Engine API. */
export function networkOperations(api: ApiClient): NetworkOperations {
  const n = (name: string) => `network "${name}"`;
  const path = (name: string, rest = '') => `/networks/${encodeURIComponent(name)}${rest}`;
  return {
    create: async (spec) => {
      const created = await api.json(
        { action: 'create', object: n(spec.name) },
        { path: '/networks/create', method: 'POST', options: networkCreateBody(spec) },
      );
      return str(created.Id);
    },
    remove: async (name) => {
      await api.call({ action: 'remove', object: n(name) }, { path: path(name), method: 'DELETE' });
    },
    inspect: async (name) =>
      parseNetworkInfo(await api.json({ action: 'inspect', object: n(name) }, { path: path(name) })),
    list: async (options = {}) => {
      const list = await api.jsonList(
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
      await api.call(
        { action: `connect container "${container}" to`, object: n(network) },
        {
          path: path(network, '/connect'),
          method: 'POST',
          options: { Container: container, EndpointConfig: { Aliases: options.aliases, IPAMConfig: ipam } },
        },
      );
    },
    disconnect: async (network, container, options = {}) => {
      await api.call(
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

export function volumeOperations(api: ApiClient): VolumeOperations {
  const v = (name: string) => `volume "${name}"`;
  const path = (name: string, rest = '') => `/volumes/${encodeURIComponent(name)}${rest}`;
  return {
    create: async (spec) =>
      parseVolumeInfo(
        await api.json(
          { action: 'create', object: spec.name === undefined ? 'a volume' : v(spec.name) },
          {
            path: '/volumes/create',
            method: 'POST',
            options: { Name: spec.name, Labels: spec.labels ?? {} },
          },
        ),
      ),
    inspect: async (name) =>
      parseVolumeInfo(await api.json({ action: 'inspect', object: v(name) }, { path: path(name) })),
    list: async (options = {}) => {
      const result = await api.json(
        { action: 'list', object: 'volumes' },
        { path: '/volumes?', options: { filters: labelFilters(options.labels) } },
      );
      return records(result.Volumes)
        .map(parseVolumeInfo)
        .filter((v) => matchesLabels(v.labels, options.labels));
    },
    remove: async (name, options = {}) => {
      await api.call(
        { action: 'remove', object: v(name) },
        { path: path(name, '?'), method: 'DELETE', options: { force: options.force === true } },
      );
    },
  };
}

export function imageOperations(api: ApiClient): ImageOperations {
  const i = (name: string) => `image "${name}"`;
  return {
    inspect: async (reference) =>
      parseImageInfo(
        await api.json(
          { action: 'inspect', object: i(reference) },
          { path: `/images/${encodeURIComponent(reference)}/json` },
        ),
      ),
    load: async (tar) => {
      const op = { action: 'load', object: 'an image archive' };
      const response = await api.stream(op, {
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
    pull: (reference, options = {}) => {
      const op = { action: 'pull', object: i(reference) };
      if (api.endpoint.provider === 'podman') {
        return transfer(
          api,
          op,
          options,
          {
            path: `${libpodPrefix(api)}/images/pull?`,
            method: 'POST',
            options: { reference, quiet: false, tlsVerify: !isLoopbackRegistry(reference) },
          },
          'unversioned',
        );
      }
      const at = reference.indexOf('@');
      const { repo, tag } = at >= 0 ? { repo: reference, tag: '' } : splitReference(reference);
      return transfer(api, op, options, {
        path: '/images/create?',
        method: 'POST',
        options: { _query: { fromImage: repo, ...(tag !== '' ? { tag } : {}) } },
      });
    },
    push: (reference, options = {}) => {
      const op = { action: 'push', object: i(reference) };
      if (api.endpoint.provider === 'podman') {
        return transfer(
          api,
          op,
          options,
          {
            path: `${libpodPrefix(api)}/images/${encodeURIComponent(reference)}/push?`,
            method: 'POST',
            options: { destination: reference, quiet: false, tlsVerify: !isLoopbackRegistry(reference) },
          },
          'unversioned',
        );
      }
      const { repo, tag } = splitReference(reference);
      return transfer(api, op, options, {
        path: `/images/${encodeURIComponent(repo)}/push?`,
        method: 'POST',
        options: { _query: { tag } },
      });
    },
    save: async (references) =>
      api.stream(
        { action: 'save', object: references.map(i).join(', ') },
        { path: '/images/get?', options: { names: references } },
      ),
    tag: async (source, target) => {
      const { repo, tag } = splitReference(target);
      await api.call(
        { action: `tag ${target} as`, object: i(source) },
        {
          path: `/images/${encodeURIComponent(source)}/tag?`,
          method: 'POST',
          options: { _query: { repo, tag }, _body: {} },
        },
      );
    },
    remove: async (reference, options = {}) => {
      await api.call(
        { action: 'remove', object: i(reference) },
        {
          path: `/images/${encodeURIComponent(reference)}?`,
          method: 'DELETE',
          options: { force: options.force === true },
        },
      );
    },
    list: async (options = {}) => {
      const list = await api.jsonList(
        { action: 'list', object: 'images' },
        { path: '/images/json?', options: { filters: labelFilters(options.labels) } },
      );
      return list.map(parseImageSummary).filter((i) => matchesLabels(i.labels, options.labels));
    },
  };
}

/** Podman 4 serves libpod routes only under a version prefix, in its own (4.x) numbering. */
function libpodPrefix(api: ApiClient): string {
  return `/v${libpodApiVersion(api.endpoint.versionPayload)}/libpod`;
}

/**
 * A registry on the loopback address: Docker talks plain HTTP to those by default, Podman only
 * when told (its compat pull cannot be told), so kur asks Podman's own API for the same.
 */
export function isLoopbackRegistry(reference: string): boolean {
  const host = referenceHost(reference).replace(/:\d+$/, '');
  return host === 'localhost' || /^127\.\d+\.\d+\.\d+$/.test(host) || host === '[::1]';
}

/**
 * A pull or push: the engine answers 200 and streams progress lines, failing inside the stream.
 * No credentials are sent (an empty X-Registry-Auth, which Docker's push requires).
 */
async function transfer(
  api: ApiClient,
  op: Operation,
  options: TransferOptions,
  request: DialOptions,
  route?: 'unversioned',
): Promise<TransferResult> {
  const quiet = new AbortController();
  const signal =
    options.signal === undefined ? quiet.signal : AbortSignal.any([options.signal, quiet.signal]);
  const wait = options.firstReplyTimeoutMs;
  const timer = wait === undefined ? undefined : setTimeout(() => quiet.abort(), wait);
  const tracker = new TransferTracker();
  try {
    const response = await api.stream(
      op,
      {
        ...request,
        headers: { 'X-Registry-Auth': Buffer.from('{}').toString('base64') },
        abortSignal: signal,
      },
      route,
    );
    let rest = '';
    for await (const chunk of response as AsyncIterable<Buffer>) {
      clearTimeout(timer);
      const lines = (rest + chunk.toString('utf8')).split('\n');
      rest = lines.pop() ?? '';
      if (lines.map((line) => tracker.feed(line)).some(Boolean)) options.onProgress?.(tracker.progress());
    }
    tracker.feed(rest);
  } catch (error) {
    if (quiet.signal.aborted) {
      throw new KurError(
        'timeout',
        `cannot ${op.action} ${op.object}: no word from the engine in ${Math.round((wait ?? 0) / 1000)} s`,
        {
          hint: 'Is the registry reachable from the engine? Check its address, or work without it.',
        },
      );
    }
    if (options.signal?.aborted === true)
      throw new KurError('cancelled', `${op.action} of ${op.object} cancelled`);
    throw error instanceof KurError ? error : api.fail(op, error);
  } finally {
    clearTimeout(timer);
  }
  if (tracker.error !== undefined) {
    // Docker answers a manifest the registry lacks with 404; Podman reports it inside the stream.
    const kind = /manifest unknown|not found/i.test(tracker.error) ? 'notFound' : 'engine';
    throw new KurError(kind, `cannot ${op.action} ${op.object}`, { detail: tracker.error });
  }
  return { digest: tracker.digest };
}

export function systemOperations(api: ApiClient): SystemOperations {
  const op = (what: string) => ({ action: 'read', object: `the engine's ${what}` });
  return {
    ping: async () => {
      await api.call(op('/_ping'), { path: '/_ping' });
    },
    version: () => api.json(op('/version'), { path: '/version' }),
    info: () => api.json(op('/info'), { path: '/info' }),
    libpodInfo: async () => {
      if (api.endpoint.provider !== 'podman') return undefined;
      // Podman 4 serves libpod routes only under a version prefix, in its own (4.x) numbering.
      const version = libpodApiVersion(api.endpoint.versionPayload);
      const path = `/v${version}/libpod/info`;
      return asRecord(await api.call(op('/libpod/info'), { path }, 'unversioned'));
    },
  };
}
