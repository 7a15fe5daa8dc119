import { chmod, mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createResolved } from '../api/create-cluster.js';
import { resolveCreateOptions } from '../api/create-options.js';
import { abortOnSignals } from '../api/signals.js';
import { nodeImageName } from '../nodeimage/defaults.js';
import { nodeImageRegistryEnv } from '../nodeimage/published.js';
import { KurError } from '../util/errors.js';
import type { LogSink } from '../util/logger.js';
import { getInput, WorkflowCommands, type ActionEnv } from './workflow-commands.js';

/** The action's inputs (action.yml), read from `INPUT_*`. Empty strings mean "not given". */
export interface ActionInputs {
  clusterName: string;
  config: string;
  nodeImage: string;
  nodeImageRegistry: string;
  kubernetesVersion: string;
  wait: string;
  host: string;
  kubeconfig: string;
}

export function readInputs(env: ActionEnv): ActionInputs {
  return {
    clusterName: getInput(env, 'cluster-name'),
    config: getInput(env, 'config'),
    nodeImage: getInput(env, 'node-image'),
    nodeImageRegistry: getInput(env, 'node-image-registry'),
    kubernetesVersion: getInput(env, 'kubernetes-version'),
    wait: getInput(env, 'wait'),
    host: getInput(env, 'host'),
    kubeconfig: getInput(env, 'kubeconfig'),
  };
}

/** `node-image` wins; `kubernetes-version` names kur's image for that version; neither: the default. */
export function nodeImageFor(inputs: ActionInputs): string | undefined {
  const fromVersion = inputs.kubernetesVersion === '' ? undefined : nodeImageName(inputs.kubernetesVersion);
  if (inputs.nodeImage !== '' && fromVersion !== undefined && inputs.nodeImage !== fromVersion) {
    throw new KurError(
      'usage',
      `node-image ${inputs.nodeImage} and kubernetes-version ${inputs.kubernetesVersion} disagree`,
      {
        hint: 'Give one of them: kubernetes-version picks kur.local/node:<version>.',
      },
    );
  }
  return inputs.nodeImage !== '' ? inputs.nodeImage : fromVersion;
}

/** Paths relative to the workspace, as a `run:` step would see them. */
function workspacePath(env: ActionEnv, path: string): string {
  return isAbsolute(path) ? path : resolve(env.GITHUB_WORKSPACE ?? process.cwd(), path);
}

/** The package root (dist/action/main.js or src/action/main.ts -> two levels up). */
const packageRoot = fileURLToPath(new URL('../../', import.meta.url));

/** A `kur` command for later steps, running this very kur with the runner's node. */
async function writeKurWrapper(dir: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  const path = join(dir, 'kur');
  const quote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
  await writeFile(
    path,
    `#!/bin/sh\nexec ${quote(process.execPath)} ${quote(join(packageRoot, 'bin', 'kur.js'))} "$@"\n`,
  );
  await chmod(path, 0o755);
  return path;
}

export interface RunOptions {
  /** Where the job log goes; default stdout (the runner reads commands there). */
  out?: LogSink;
}

/**
 * The action's main step: creates the cluster, sets the outputs (`kubeconfig`, `cluster-name`,
 * `server`, ...), exports KUBECONFIG and KUR_HOST, puts `kur` on PATH, and saves what the post step
 * needs to delete it. Returns the process exit code.
 */
export async function runMain(env: ActionEnv, options: RunOptions = {}): Promise<number> {
  const gh = new WorkflowCommands(env, options.out);
  // The runner may signal more than once while it cancels; each time the create keeps rolling back.
  const notice = (signal: NodeJS.Signals): void =>
    gh.command('warning', `${signal} received: deleting what the create made`);
  try {
    await abortOnSignals({ notice, exitOnSecond: false }, (signal) => createAndPublish(env, gh, signal));
    return 0;
  } catch (error) {
    gh.reportError('kur: creating the cluster failed', error);
    return 1;
  }
}

async function createAndPublish(env: ActionEnv, gh: WorkflowCommands, signal: AbortSignal): Promise<void> {
  const inputs = readInputs(env);
  const image = nodeImageFor(inputs);
  // Resolved once, first: the name may come from the config file, and must be known (and valid)
  // before anything exists.
  const resolved = await resolveCreateOptions({
    ...(inputs.clusterName !== '' ? { name: inputs.clusterName } : {}),
    ...(inputs.config !== '' ? { configFile: workspacePath(env, inputs.config) } : {}),
    ...(image !== undefined ? { image } : {}),
    ...(inputs.wait !== '' ? { wait: inputs.wait } : {}),
    ...(inputs.host !== '' ? { host: inputs.host } : {}),
    signal,
    onProgress: gh.progress(),
    logger: gh.logger(),
    env: inputs.nodeImageRegistry !== '' ? { ...env, [nodeImageRegistryEnv]: inputs.nodeImageRegistry } : env,
  });
  const name = resolved.config.name;
  const workDir = await mkdtemp(join(env.RUNNER_TEMP ?? tmpdir(), `kur-${name}-`));
  const kubeconfigPath =
    inputs.kubeconfig !== '' ? workspacePath(env, inputs.kubeconfig) : join(workDir, 'kubeconfig');
  // Saved first: a cancelled job still runs the post step, which deletes whatever exists.
  gh.saveState('cluster', name);
  gh.saveState('workDir', workDir);
  gh.saveState('kubeconfig', kubeconfigPath);
  if (inputs.host !== '') gh.saveState('host', inputs.host);

  const cluster = await createResolved({ ...resolved, kubeconfig: { kind: 'file', path: kubeconfigPath } });
  if (cluster.host !== undefined) gh.saveState('host', cluster.host);
  const kur = await writeKurWrapper(join(workDir, 'bin'));

  gh.setOutput('cluster-name', cluster.name);
  gh.setOutput('kubeconfig', kubeconfigPath);
  gh.setOutput('server', cluster.server);
  gh.setOutput('context', cluster.context);
  gh.setOutput('kubernetes-version', cluster.kubernetesVersion);
  gh.setOutput('kur', kur);
  gh.exportVariable('KUBECONFIG', kubeconfigPath);
  if (cluster.host !== undefined) gh.exportVariable('KUR_HOST', cluster.host);
  gh.addPath(join(workDir, 'bin'));
  gh.info(
    `Cluster "${cluster.name}" is ready: Kubernetes ${cluster.kubernetesVersion}, ${cluster.nodes.length} node(s), API server ${cluster.server}.`,
  );
  gh.info(`KUBECONFIG=${kubeconfigPath} (context ${cluster.context}); \`kur\` is on PATH for later steps.`);
}
