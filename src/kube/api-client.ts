import { request, type RequestOptions } from 'node:https';
import { KurError, messageOf } from '../util/errors.js';

/**
 * A small Kubernetes REST client over node:https with a cluster's admin credentials: GET, a watch
 * stream, and merge patches. Enough for kur's host-side controllers; no kubectl, no dependency.
 */
export interface KubeCredentials {
  server: string;
  /** Base64 PEM, as in a kubeconfig. */
  certificateAuthorityData: string;
  clientCertificateData: string;
  clientKeyData: string;
}

/** A watch event: ADDED, MODIFIED, DELETED, BOOKMARK, or ERROR (object is then a Status). */
export interface WatchEvent<T> {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: T;
}

/** An answer other than 2xx; `status` is the HTTP code (410: the resourceVersion is too old). */
export class KubeApiError extends KurError {
  constructor(
    readonly status: number,
    what: string,
    body: string,
  ) {
    super('engine', `${what}: HTTP ${status}`, { detail: body.slice(0, 2000) });
  }
}

export class KubeClient {
  private readonly tls: Pick<RequestOptions, 'ca' | 'cert' | 'key'>;

  constructor(
    private readonly credentials: KubeCredentials,
    private readonly timeoutMs = 15_000,
  ) {
    const pem = (data: string): Buffer => Buffer.from(data, 'base64');
    this.tls = {
      ca: pem(credentials.certificateAuthorityData),
      cert: pem(credentials.clientCertificateData),
      key: pem(credentials.clientKeyData),
    };
  }

  get<T>(path: string, signal?: AbortSignal): Promise<T> {
    return this.call<T>('GET', path, undefined, undefined, signal);
  }

  /** A JSON merge patch (RFC 7386); `null` values delete fields. */
  mergePatch<T>(path: string, patch: unknown, signal?: AbortSignal): Promise<T> {
    return this.call<T>('PATCH', path, JSON.stringify(patch), 'application/merge-patch+json', signal);
  }

  /**
   * Streams a watch (`path` carries `watch=1` and the resourceVersion to start from) and calls
   * `onEvent` for each event until the server ends the stream (resolves), the connection fails or
   * stays silent for `idleTimeoutMs` (bookmarks arrive about once a minute), `onEvent` throws, or
   * `signal` aborts (each rejects).
   */
  watch<T>(
    path: string,
    onEvent: (event: WatchEvent<T>) => void,
    options: { signal?: AbortSignal; idleTimeoutMs?: number } = {},
  ): Promise<void> {
    const url = new URL(path, this.credentials.server);
    const idle = options.idleTimeoutMs ?? 360_000;
    const { signal } = options;
    return new Promise((resolve, reject) => {
      let settled = false;
      const settle = (error?: unknown): void => {
        if (settled) return;
        settled = true;
        signal?.removeEventListener('abort', onAbort);
        req.destroy();
        if (error === undefined) resolve();
        else reject(error instanceof Error ? error : new Error(messageOf(error)));
      };
      // Once the answer streams, aborting the request no longer settles anything by itself.
      const onAbort = (): void => settle(signal?.reason ?? new Error('aborted'));
      const req = request(url, { ...this.tls, method: 'GET', timeout: idle }, (res) => {
        if (res.statusCode !== 200) {
          collect(res, (body) =>
            settle(new KubeApiError(res.statusCode ?? 0, `watch ${url.pathname}`, body)),
          );
          return;
        }
        res.setEncoding('utf8');
        let pending = '';
        res.on('data', (chunk: string) => {
          pending += chunk;
          let newline = pending.indexOf('\n');
          while (newline >= 0 && !settled) {
            const line = pending.slice(0, newline).trim();
            pending = pending.slice(newline + 1);
            try {
              if (line !== '') onEvent(JSON.parse(line) as WatchEvent<T>);
            } catch (error) {
              settle(error);
              return;
            }
            newline = pending.indexOf('\n');
          }
        });
        res.on('end', () => settle());
        res.on('close', () =>
          settle(res.complete ? undefined : new Error(`watch ${url.pathname}: stream cut`)),
        );
        res.on('error', settle);
      });
      if (signal?.aborted === true) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      // A peer that vanished without closing (a killed node) would hold the stream forever.
      req.on('timeout', () =>
        settle(new KurError('timeout', `watch ${url.pathname}: silent for ${idle} ms`)),
      );
      req.on('error', settle);
      req.end();
    });
  }

  private call<T>(
    method: string,
    path: string,
    body: string | undefined,
    contentType: string | undefined,
    signal: AbortSignal | undefined,
  ): Promise<T> {
    const url = new URL(path, this.credentials.server);
    const what = `${method} ${url.pathname}`;
    return new Promise((resolve, reject) => {
      const req = request(
        url,
        {
          ...this.tls,
          method,
          timeout: this.timeoutMs,
          signal,
          headers: {
            accept: 'application/json',
            ...(contentType !== undefined ? { 'content-type': contentType } : {}),
          },
        },
        (res) =>
          collect(res, (text) => {
            const status = res.statusCode ?? 0;
            if (status < 200 || status > 299) reject(new KubeApiError(status, what, text));
            else resolve(JSON.parse(text) as T);
          }),
      );
      req.on('timeout', () =>
        req.destroy(new KurError('timeout', `${what}: no answer in ${this.timeoutMs} ms`)),
      );
      req.on('error', reject);
      req.end(body);
    });
  }
}

function collect(res: NodeJS.ReadableStream, done: (body: string) => void): void {
  let body = '';
  res.setEncoding('utf8');
  res.on('data', (chunk: string) => (body += chunk));
  res.on('end', () => done(body));
}
