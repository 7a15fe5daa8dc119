import { buildBaseRootfs, type BaseRootfs } from '../base-rootfs.js';
import type { Tools } from './check-tools.js';
import type { Phase } from '../../ui/phases.js';
import type { BuildInputs } from './inputs.js';

export const baseRootfsStepId = 'node-image.base-rootfs';

export interface WithBase extends Tools {
  base: BaseRootfs;
}

/** The bottom layer: Debian from mmdebstrap (cached after the first build). */
export const baseRootfsPhase: Phase<BuildInputs, Tools, WithBase> = {
  id: baseRootfsStepId,
  title: () => 'Debian base root filesystem (mmdebstrap)',
  run: async (tools, { logger, env }, step) => {
    step.status('mmdebstrap (cached after the first build)');
    return { ...tools, base: await buildBaseRootfs({ logger, env }) };
  },
};
