import { findGo, type GoToolchain } from '../go-build.js';
import type { Phase } from '../../ui/phases.js';
import type { BuildInputs } from './inputs.js';

export const checkToolsStepId = 'node-image.check-tools';

export interface Tools {
  toolchain: GoToolchain;
}

/** Go is needed whatever the source: kur's own programs are always built with it. */
export const checkToolsPhase: Phase<BuildInputs, object, Tools> = {
  id: checkToolsStepId,
  title: () => 'Check build tools',
  run: async (_input, { env, logger }) => {
    const toolchain = await findGo(env);
    logger.debug(`Go: ${toolchain.version}`);
    return { toolchain };
  },
};
