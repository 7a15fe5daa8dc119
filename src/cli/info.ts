import type { Command } from 'commander';
import { contextFrom } from './context.js';
import { printResult } from './output.js';
import { engineInfo, renderInfo } from '../cluster/info.js';

export function registerInfo(program: Command): void {
  program
    .command('info')
    .description('show the engine kur would use: where it was found, what it is, what it allows')
    .action(async (_opts, command: Command) => {
      const ctx = contextFrom(command);
      const report = await engineInfo({ host: ctx.host, env: ctx.env, logger: ctx.logger });
      printResult(ctx, report, () => renderInfo(report));
    });
}
