import type { IncomingMessage } from 'node:http';
// Types only: docker-api.ts is the one module that loads dockerode and its modem.
import type DockerModem from 'docker-modem';
import { asRecord, records, str, type JsonRecord } from './json.js';
import type { ResolvedEndpoint } from './types.js';
import type { KurError } from '../util/errors.js';

/**
 * What the operation modules (containers, networks, volumes, images, system) need from the
 * connection: calls that turn every failure into a KurError naming the operation and object.
 */
export type DialOptions = DockerModem.DialOptions;

export interface Operation {
  /** Verb phrase: `create`, `start`, `load`. */
  action: string;
  /** `container "kur-control-plane"`, `image archive`. */
  object: string;
}

export interface ApiClient {
  readonly endpoint: ResolvedEndpoint;
  /** `unversioned`: Podman's libpod endpoints are not under the compat version prefix. */
  call(op: Operation, options: DialOptions, route?: 'unversioned'): Promise<unknown>;
  json(op: Operation, options: DialOptions): Promise<JsonRecord>;
  jsonList(op: Operation, options: DialOptions): Promise<JsonRecord[]>;
  stream(op: Operation, options: DialOptions, route?: 'unversioned'): Promise<IncomingMessage>;
  /** The KurError for a failure of `op` that happened outside `call` (a stream that broke). */
  fail(op: Operation, error: unknown): KurError;
}

/** The libpod API version Podman declares (its compat /version lists it as a component). */
export function libpodApiVersion(version: JsonRecord): string {
  const podman = records(version.Components).find((c) => /podman/i.test(str(c.Name)));
  const declared = str(asRecord(podman?.Details)?.APIVersion);
  return /^\d+\.\d+\.\d+$/.test(declared) ? declared : '4.0.0';
}
