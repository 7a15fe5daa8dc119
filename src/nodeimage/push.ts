import type { Engine } from '../engine/types.js';
import { formatTransfer } from '../engine/transfer-progress.js';
import { runSteps, type ProgressListener, type RendererKind, type StepTiming } from '../ui/progress.js';
import { KurError } from '../util/errors.js';
import { isRegistryReference } from './published.js';

export interface PushNodeImageOptions {
  engine: Engine;
  /** The image on the engine (`kur.local/node:…`). */
  image: string;
  /** Where it goes: `host[:port]/name:tag`. */
  reference: string;
  renderer: RendererKind;
  onEvent?: ProgressListener;
  signal?: AbortSignal;
}

export interface PushedNodeImage {
  reference: string;
  /** The manifest digest the registry stored; pull `<name>@<digest>` to get exactly this image. */
  digest: string | undefined;
  timings: StepTiming[];
}

/** `kur build node-image --push REF`: tags the built image as REF and pushes it through the engine. */
export async function pushNodeImage(options: PushNodeImageOptions): Promise<PushedNodeImage> {
  const { engine, image, reference } = options;
  if (!isRegistryReference(reference)) {
    throw new KurError('usage', `--push ${reference}: not a registry reference`, {
      hint: 'Name the registry host: e.g. 127.0.0.1:5000/kur/node:v1 or registry.example.com/kur/node:v1.',
    });
  }
  let digest: string | undefined;
  const timings = await runSteps(
    [
      {
        id: 'push',
        title: `Push ${reference}`,
        run: async (step) => {
          await engine.images.tag(image, reference);
          ({ digest } = await engine.images.push(reference, {
            onProgress: (p) => step.status(formatTransfer(p)),
            signal: step.signal,
          }));
        },
      },
    ],
    {
      renderer: options.renderer,
      ...(options.onEvent !== undefined ? { onEvent: options.onEvent } : {}),
      ...(options.signal !== undefined ? { signal: options.signal } : {}),
    },
  );
  return { reference, digest, timings };
}
