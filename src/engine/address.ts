import type { Connection, TlsMaterial } from './types.js';

/** Why an address cannot be used; the caller wraps it into an error naming where it came from. */
export class AddressError extends Error {
  readonly hint: string | undefined;
  constructor(message: string, hint?: string) {
    super(message);
    this.name = 'AddressError';
    this.hint = hint;
  }
}

const sshHint =
  'kur talks to the engine socket directly; forward it first, e.g. ' +
  '`ssh -nNT -L /tmp/engine.sock:/run/user/1000/podman/podman.sock user@host`, then use --host unix:///tmp/engine.sock.';

/**
 * Parses an engine address the way DOCKER_HOST and CONTAINER_HOST are written: `unix:///path`,
 * `tcp://host:port` (TLS when material is given), `http(s)://host:port`, or a bare socket path.
 * ssh:// and npipe:// are refused with a way around.
 */
export function parseAddress(address: string, tls?: TlsMaterial): Connection {
  const text = address.trim();
  if (text.startsWith('/')) return { kind: 'unix', socketPath: text };
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(text)?.[1]?.toLowerCase();
  if (scheme === undefined) {
    throw new AddressError(
      `"${address}" is not an engine address`,
      'use unix:///path/to/engine.sock or tcp://host:port',
    );
  }
  if (scheme === 'unix') {
    const socketPath = text.slice('unix://'.length);
    if (!socketPath.startsWith('/')) {
      throw new AddressError(
        `"${address}" names no absolute socket path`,
        'write it as unix:///path/to/engine.sock',
      );
    }
    return { kind: 'unix', socketPath };
  }
  if (scheme === 'ssh') throw new AddressError(`ssh:// endpoints are not supported ("${address}")`, sshHint);
  if (scheme === 'npipe') throw new AddressError(`npipe:// endpoints are Windows-only ("${address}")`);
  if (scheme !== 'tcp' && scheme !== 'http' && scheme !== 'https') {
    throw new AddressError(`unsupported scheme ${scheme}:// in "${address}"`, 'use unix:// or tcp://');
  }
  let url: URL;
  try {
    url = new URL(text.replace(/^[a-z]+:/i, 'http:'));
  } catch {
    throw new AddressError(`"${address}" is not a valid URL`);
  }
  if (url.hostname === '') throw new AddressError(`"${address}" names no host`);
  const useTls = scheme === 'https' || (tls !== undefined && scheme === 'tcp');
  const port = url.port === '' ? (useTls ? 2376 : 2375) : Number(url.port);
  // URL keeps the brackets of an IPv6 literal; sockets want the bare address.
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  return { kind: 'tcp', host, port, tls: useTls ? (tls ?? {}) : undefined };
}

/** The address of a connection as a URL, for messages and `kur info`. */
export function formatConnection(connection: Connection): string {
  if (connection.kind === 'unix') return `unix://${connection.socketPath}`;
  const host = connection.host.includes(':') ? `[${connection.host}]` : connection.host;
  return `tcp://${host}:${connection.port}`;
}
