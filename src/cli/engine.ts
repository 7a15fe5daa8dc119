import { connectEngine } from '../engine/connect.js';
import type { Engine } from '../engine/types.js';
import type { CliContext } from './context.js';

/** Opens the engine the global flags and environment point at; closed when `use` settles. */
export async function withEngine<T>(ctx: CliContext, use: (engine: Engine) => Promise<T>): Promise<T> {
  const engine = await connectEngine({ host: ctx.host, env: ctx.env, logger: ctx.logger });
  try {
    return await use(engine);
  } finally {
    engine.close();
  }
}
