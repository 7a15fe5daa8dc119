import { readFile } from 'node:fs/promises';
import { loadClusterConfig, localHostPaths, normalizeClusterConfig } from '../config/load.js';
import { clusterSchema } from '../config/schema.js';
import type { ClusterConfig, ClusterConfigInput } from '../config/types.js';
import { parseDuration } from '../util/duration.js';
import { KurError, messageOf } from '../util/errors.js';
import type { ProgressListener } from '../ui/progress.js';
import type { Logger } from '../util/logger.js';
import { callEnv, callLogger, progressListener, type EngineOptions, type ProgressOptions } from './common.js';

/**
 * `createCluster`'s options: the fields of a cluster config file (`name`, `nodes`, `networking`,
 * `featureGates`, ... exactly as in a `kur.dev/v1alpha1` Cluster file, each described on
 * {@link ClusterConfig}; defaults are the file's defaults) plus how to run the create.
 */
export interface CreateClusterOptions extends ClusterConfigInput, EngineOptions, ProgressOptions {
  /**
   * Read the cluster config from this YAML file (kur's `kur.dev/v1alpha1` or kind's
   * `kind.x-k8s.io/v1alpha4`), like `kur create cluster --config`; `'-'` reads standard input. Only `name` may be combined with
   * it (it wins over the file's name, like `--name`); other config fields with it are an error.
   */
  configFile?: string;
  /**
   * Node image for nodes that name none. Default kur's image for the Kubernetes version this kur
   * pins (`kur.local/node:<version>`), built on the engine first when it is missing (minutes,
   * cached); any other image must already be on the engine.
   */
  image?: string;
  /**
   * How long to wait for every node to be Ready and CoreDNS to answer: milliseconds, or a
   * duration such as `'90s'` or `'5m'`. `0` returns once kubeadm is done. Default `'5m'`.
   */
  wait?: number | string;
  /** Keep what was created when the create fails, for debugging. Default false (roll back). */
  retain?: boolean;
  /**
   * Where the cluster's kubeconfig goes.
   * - undefined (default): a private file in a new temporary directory, owned by the returned
   *   handle and removed by `delete()`. The user's `~/.kube/config` and `$KUBECONFIG` are not touched.
   * - a path: the cluster's entry (context `kur-<name>`, made current) is merged into that file
   *   under a lock, mode 0600, as the CLI's `--kubeconfig` does; `delete()` removes the entry.
   * - `false`: no file; the kubeconfig is only available as text (`cluster.kubeconfig`).
   */
  kubeconfig?: string | false;
  /**
   * Cancels the create: whatever it made so far is removed (unless `retain`), like Ctrl-C, and
   * the promise rejects with a `KurError` of kind `cancelled`. Aborting after the promise
   * resolved does nothing: delete the cluster with its handle.
   */
  signal?: AbortSignal;
}

/** The run options, as opposed to config fields (kept in one list for the unknown-option check). */
const runOptionNames = [
  'configFile',
  'image',
  'wait',
  'retain',
  'kubeconfig',
  'signal',
  'host',
  'env',
  'logger',
  'onProgress',
  'progress',
] as const satisfies readonly (keyof CreateClusterOptions)[];

type RunOptionName = (typeof runOptionNames)[number];

/** kur's default for `wait`, the same as the CLI's `--wait`. */
export const defaultWait = '5m';

export type KubeconfigMode = { kind: 'private' } | { kind: 'file'; path: string } | { kind: 'none' };

/** Everything a create needs, checked, before anything touches the engine. */
export interface ResolvedCreateOptions {
  config: ClusterConfig;
  waitMs: number;
  kubeconfig: KubeconfigMode;
  image: string | undefined;
  retain: boolean;
  signal: AbortSignal | undefined;
  onEvent: ProgressListener | undefined;
  /** The engine to use, with the call's env copied when it started. */
  engine: Required<Pick<EngineOptions, 'env' | 'logger'>> & Pick<EngineOptions, 'host'>;
}

function configFieldNames(): string[] {
  return clusterSchema.type === 'object' ? Object.keys(clusterSchema.fields) : [];
}

/** Splits the options into config fields and run options; rejects names that are neither. */
export function splitCreateOptions(options: CreateClusterOptions): {
  configInput: ClusterConfigInput;
  run: Pick<CreateClusterOptions, RunOptionName>;
} {
  const configInput: Record<string, unknown> = {};
  const run: Record<string, unknown> = {};
  const known = new Set<string>([...configFieldNames(), ...runOptionNames]);
  for (const [key, value] of Object.entries(options)) {
    if (!known.has(key)) {
      throw new KurError('usage', `createCluster: unknown option "${key}"`, {
        hint: `Config fields: ${configFieldNames().join(', ')}. Run options: ${runOptionNames.join(', ')}.`,
      });
    }
    if (value === undefined) continue;
    if ((runOptionNames as readonly string[]).includes(key)) run[key] = value;
    else configInput[key] = value;
  }
  return { configInput, run };
}

export function waitMilliseconds(wait: number | string | undefined): number {
  if (wait === undefined) return parseDuration(defaultWait, 'wait');
  if (typeof wait === 'number') {
    if (!Number.isFinite(wait) || wait < 0) {
      throw new KurError('usage', `wait: ${wait} is not a number of milliseconds`, {
        hint: "Pass milliseconds (0 or more) or a duration such as '90s' or '5m'.",
      });
    }
    return Math.round(wait);
  }
  return parseDuration(wait, 'wait');
}

function kubeconfigMode(value: string | false | undefined): KubeconfigMode {
  if (value === undefined) return { kind: 'private' };
  if (value === false) return { kind: 'none' };
  if (typeof value !== 'string' || value === '') {
    throw new KurError('usage', 'kubeconfig: expected a file path, false, or nothing', {
      hint: 'Leave it out for a private kubeconfig file the handle removes on delete.',
    });
  }
  return { kind: 'file', path: value };
}

/** Everything `createCluster` decides before it touches the engine: config, wait, kubeconfig. */
export async function resolveCreateOptions(
  options: CreateClusterOptions,
  logger: Logger = callLogger(options),
): Promise<ResolvedCreateOptions> {
  const { configInput, run } = splitCreateOptions(options);
  const waitMs = waitMilliseconds(run.wait);
  const kubeconfig = kubeconfigMode(run.kubeconfig);
  // Host paths are checked on this machine only when the engine runs here (a socket, not tcp://).
  const local = run.host === undefined || run.host.startsWith('unix://');
  const config = await readConfig(configInput, run.configFile, logger, local);
  return {
    config,
    waitMs,
    kubeconfig,
    image: run.image,
    retain: run.retain === true,
    signal: run.signal,
    onEvent: progressListener(run),
    engine: { ...(run.host !== undefined ? { host: run.host } : {}), env: callEnv(run), logger },
  };
}

/** The config from the options' fields, or from `configFile` with only `name` allowed beside it. */
async function readConfig(
  configInput: ClusterConfigInput,
  configFile: string | undefined,
  logger: Logger,
  local: boolean,
): Promise<ClusterConfig> {
  const name = configInput.name;
  const hostPaths = local ? localHostPaths() : false;
  if (configFile === undefined) return normalizeClusterConfig(configInput, { logger, hostPaths });
  // `registries` (the CLI's --registry) adds to the file's, like --name overrides its name.
  const others = Object.keys(configInput).filter((k) => k !== 'name' && k !== 'registries');
  if (others.length > 0) {
    throw new KurError('usage', `createCluster: configFile cannot be combined with ${others.join(', ')}`, {
      hint: 'Put those fields in the file, or pass the whole config as options without configFile.',
    });
  }
  const source = configFile === '-' ? '<stdin>' : configFile;
  let text: string;
  try {
    text = configFile === '-' ? await readStdin() : await readFile(configFile, 'utf8');
  } catch (error) {
    throw new KurError('config', `cannot read config ${source}: ${messageOf(error)}`, {
      hint: 'Name an existing file, or "-" to read the config from standard input.',
    });
  }
  // A file's relative host paths resolve against its own directory (loadClusterConfig's default).
  const fileHostPaths = local ? {} : { hostPaths: false as const };
  const config = loadClusterConfig({
    text,
    source,
    logger,
    ...fileHostPaths,
    ...(name !== undefined ? { name } : {}),
  });
  const registries = [...new Set([...config.registries, ...(configInput.registries ?? [])])];
  return { ...config, registries };
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
