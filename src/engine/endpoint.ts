import { AddressError, parseAddress } from './address.js';
import { strategies as defaultStrategies, type Candidate, type Strategy } from './endpoint-strategies.js';
import type { HostFs } from './host-fs.js';
import type { Connection, ProbeResult, Provider, ResolvedEndpoint } from './types.js';
import { KurError, messageOf } from '../util/errors.js';
import type { Logger } from '../util/logger.js';

/** Asks an endpoint `/_ping` then `/version`; rejects with a short reason when it does not answer. */
export type Prober = (connection: Connection) => Promise<ProbeResult>;

export interface ResolveOptions {
  /** The --host flag, if given. */
  host?: string | undefined;
  env: Record<string, string | undefined>;
  uid: number;
  home: string;
  fs: HostFs;
  probe: Prober;
  logger: Logger;
  /** Replaces the built-in order (tests). */
  strategies?: readonly Strategy[];
}

export interface Attempt {
  place: string;
  result: string;
}

const startHint =
  'start an engine: `sudo systemctl start docker` (Docker), `systemctl --user start docker` ' +
  '(rootless Docker) or `systemctl --user start podman.socket` (rootless Podman); or point kur at one ' +
  'with --host unix:///path/to/engine.sock (or KUR_HOST).';

export function providerFromEnv(env: Record<string, string | undefined>): Provider | undefined {
  const value = env.KUR_PROVIDER?.trim().toLowerCase();
  if (value === undefined || value === '') return undefined;
  if (value === 'docker' || value === 'podman') return value;
  throw new KurError('usage', `KUR_PROVIDER=${env.KUR_PROVIDER} is not a provider`, {
    hint: 'set KUR_PROVIDER to docker or podman, or unset it to take the first engine that answers.',
  });
}

/**
 * Finds the engine to talk to: strategies in order, each candidate probed with a real API call.
 * A named endpoint (flag, variable, context) ends the search: it is used or its failure is the
 * error. Unnamed sockets that are missing or silent are passed over; if none answers, one error
 * lists every place tried and what it said.
 */
export async function resolveEndpoint(options: ResolveOptions): Promise<ResolvedEndpoint> {
  const { logger } = options;
  const provider = providerFromEnv(options.env);
  const ctx = {
    hostFlag: options.host,
    env: options.env,
    uid: options.uid,
    home: options.home,
    fs: options.fs,
    provider,
  };
  const attempts: Attempt[] = [];
  const note = (place: string, result: string): void => {
    attempts.push({ place, result });
    logger.debug(`engine endpoint: ${place}: ${result}`);
  };

  for (const strategy of options.strategies ?? defaultStrategies) {
    let outcome;
    try {
      outcome = await strategy.find(ctx);
    } catch (error) {
      note(strategy.name, `could not be read: ${messageOf(error)}`);
      continue;
    }
    if ('skipped' in outcome) {
      note(strategy.name, outcome.skipped);
      continue;
    }
    for (const candidate of outcome.candidates) {
      if (candidate.named) return useNamed(candidate, options, provider);
      const found = await tryUnnamed(candidate, options, provider, note);
      if (found !== undefined) return found;
    }
  }

  const narrowed =
    provider === undefined ? '' : ` (KUR_PROVIDER=${provider}: only ${providerName(provider)} counts)`;
  throw new KurError('engine', `no container engine answered${narrowed}; places tried:`, {
    detail: attempts.map((a) => `${a.place}: ${a.result}`).join('\n'),
    hint: startHint,
  });
}

async function useNamed(
  candidate: Candidate,
  options: ResolveOptions,
  provider: Provider | undefined,
): Promise<ResolvedEndpoint> {
  const where =
    candidate.address === '' ? candidate.description : `${candidate.description} (${candidate.address})`;
  const fix =
    candidate.source === '--host'
      ? 'fix the --host value or start that engine.'
      : candidate.source === 'docker-context'
        ? 'fix the context, or select another with `docker context use` or DOCKER_CONTEXT.'
        : `fix or unset ${candidate.description}, or start that engine.`;
  const hint = `${fix} kur does not fall back to other sockets when an endpoint is named.`;
  if (candidate.broken !== undefined) {
    throw new KurError('engine', `cannot use the engine named by ${where}`, {
      detail: candidate.broken,
      hint,
    });
  }
  let connection: Connection;
  try {
    connection = parseAddress(candidate.address, candidate.tls);
  } catch (error) {
    const addressHint = error instanceof AddressError ? error.hint : undefined;
    throw new KurError('engine', `cannot use the engine named by ${where}`, {
      detail: messageOf(error),
      hint: addressHint ?? hint,
    });
  }
  let probe: ProbeResult;
  try {
    probe = await options.probe(connection);
  } catch (error) {
    throw new KurError('engine', `the engine named by ${where} does not answer`, {
      detail: messageOf(error),
      hint,
      cause: error,
    });
  }
  if (provider !== undefined && probe.provider !== provider) {
    throw new KurError(
      'engine',
      `${where} is ${providerName(probe.provider)} ${probe.version}, but KUR_PROVIDER=${provider}`,
      { hint: `point kur at a ${providerName(provider)} endpoint, or unset KUR_PROVIDER.` },
    );
  }
  options.logger.debug(`engine endpoint: ${where}: ${providerName(probe.provider)} ${probe.version}`);
  return endpointOf(candidate, connection, probe);
}

async function tryUnnamed(
  candidate: Candidate,
  options: ResolveOptions,
  provider: Provider | undefined,
  note: (place: string, result: string) => void,
): Promise<ResolvedEndpoint | undefined> {
  let connection: Connection;
  try {
    connection = parseAddress(candidate.address, candidate.tls);
  } catch (error) {
    note(candidate.description, messageOf(error));
    return undefined;
  }
  if (connection.kind === 'unix') {
    let kind;
    try {
      kind = await options.fs.kind(connection.socketPath);
    } catch (error) {
      note(candidate.description, messageOf(error));
      return undefined;
    }
    if (kind === undefined) {
      note(candidate.description, 'no socket there');
      return undefined;
    }
    if (kind !== 'socket') {
      note(candidate.description, 'exists but is not a socket');
      return undefined;
    }
  }
  let probe: ProbeResult;
  try {
    probe = await options.probe(connection);
  } catch (error) {
    note(candidate.description, messageOf(error));
    return undefined;
  }
  if (provider !== undefined && probe.provider !== provider) {
    note(
      candidate.description,
      `${providerName(probe.provider)} ${probe.version}, passed over: KUR_PROVIDER=${provider}`,
    );
    return undefined;
  }
  note(candidate.description, `${providerName(probe.provider)} ${probe.version} answers`);
  return endpointOf(candidate, connection, probe);
}

function endpointOf(candidate: Candidate, connection: Connection, probe: ProbeResult): ResolvedEndpoint {
  return {
    ...probe,
    source: candidate.source,
    sourceDescription: candidate.description,
    address: candidate.address,
    connection,
  };
}

export function providerName(provider: Provider): string {
  return provider === 'docker' ? 'Docker' : 'Podman';
}
