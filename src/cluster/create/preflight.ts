import { detectEngine, readEngineFacts, type EngineInfo } from '../../engine/detect.js';
import { checkPatchesApply } from '../../kube/patch-check.js';
import { assertPreflight, renderChecks, runPreflight, summarizeChecks } from '../../preflight/index.js';
import type { LocalRegistry } from '../../kube/containerd.js';
import { findRegistries } from '../registry/registries.js';
import { KurError } from '../../util/errors.js';
import { checkKubeconfigTarget } from '../kubeconfig-check.js';
import { preflightRequest } from '../preflight-request.js';
import type { CreateRun } from './context.js';
import type { Phase } from '../../ui/phases.js';

/** Host checks (milliseconds) and engine detection: a doomed create stops before anything exists. */
export const preflightPhase: Phase<CreateRun, object, { info: EngineInfo; registries: LocalRegistry[] }> = {
  id: 'preflight',
  title: 'Preflight',
  run: async (_input, run, step) => {
    // A kubeconfig kur could not write fails now, not after the whole cluster is built.
    if (run.kubeconfigPath !== undefined) {
      step.status(`checking ${run.kubeconfigPath}`);
      const { lock } = await checkKubeconfigTarget(run.kubeconfigPath);
      if (lock !== undefined) run.logger.warn(`${lock.path} is held (${lock.reason}); kur will wait for it`);
    }
    // A registry the config names must exist: its host port goes into every node's containerd.
    const registries = await findRegistries(run.engine, run.config.registries);
    step.status('checking the host');
    const facts = await readEngineFacts(run.engine, run.logger);
    const report = await runPreflight({
      connection: run.engine.endpoint.connection,
      engine: facts,
      request: preflightRequest(run.config),
    });
    const { warnings } = summarizeChecks(report.results);
    if (warnings.length > 0) run.logger.warn(`preflight:\n${renderChecks(warnings)}`);
    assertPreflight(report.results);
    step.status('detecting the engine');
    const info = await detectEngine(run.engine, { logger: run.logger });
    if (info.privilege.kind === 'unavailable') {
      throw new KurError('preflight', 'the engine cannot start privileged containers', {
        detail: info.privilege.reason,
      });
    }
    // Every patch applied to the documents kur would generate on this engine: a patch that does
    // not apply is a config error naming its line, before any image is built or node started.
    const noCgroups = info.rootless && info.cgroupDriver === 'none';
    checkPatchesApply(run.config, {
      rootless: info.rootless,
      cgroupVersion: info.cgroupVersion ?? 2,
      cgroupDriver: noCgroups ? 'cgroupfs' : 'systemd',
    });
    return { info, registries };
  },
};
