import { rm } from 'node:fs/promises';
import { deleteCluster } from '../api/clusters.js';
import type { RunOptions } from './main.js';
import { getState, WorkflowCommands, type ActionEnv } from './workflow-commands.js';

/**
 * The action's post step (runs even when the job failed or was cancelled): deletes the cluster
 * the main step saved in its state, its kubeconfig entry and the action's temp directory.
 * Nothing saved means the main step never got as far as naming a cluster: nothing to do.
 */
export async function runPost(env: ActionEnv, options: RunOptions = {}): Promise<number> {
  const gh = new WorkflowCommands(env, options.out);
  const name = getState(env, 'cluster');
  if (name === '') {
    gh.info('kur: no cluster was created by this action; nothing to delete.');
    return 0;
  }
  const host = getState(env, 'host');
  const kubeconfig = getState(env, 'kubeconfig');
  const workDir = getState(env, 'workDir');
  try {
    const deleted = await deleteCluster({
      name,
      ...(host !== '' ? { host } : {}),
      ...(kubeconfig !== '' ? { kubeconfig } : {}),
      logger: gh.logger(),
      env,
    });
    if (workDir !== '') await rm(workDir, { recursive: true, force: true });
    gh.info(
      deleted.containers.length === 0
        ? `kur: cluster "${name}" was not there (the create failed or it was deleted already).`
        : `kur: deleted cluster "${name}" (${deleted.containers.join(', ')}).`,
    );
    return 0;
  } catch (error) {
    gh.reportError(`kur: deleting cluster ${name} failed`, error);
    return 1;
  }
}
