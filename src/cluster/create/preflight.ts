import { detectEngine, readEngineFacts, type EngineInfo } from '../../engine/detect.js';
import { assertPreflight, renderChecks, runPreflight, summarizeChecks } from '../../preflight/index.js';
import { KurError } from '../../util/errors.js';
import { preflightRequest } from '../preflight-request.js';
import type { CreateInput } from './context.js';
import type { Phase } from './pipeline.js';

/** Host checks (milliseconds) and engine detection: a doomed create stops before anything exists. */
export const preflightPhase: Phase<CreateInput, { info: EngineInfo }> = {
  id: 'preflight',
  title: 'Preflight',
  run: async ({ run }, step) => {
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
    return { info };
  },
};
