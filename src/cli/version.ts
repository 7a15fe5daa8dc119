import type { Command } from 'commander';
import { contextFrom } from './context.js';
import { printResult } from './output.js';
import { kurVersion } from '../version.js';

export function registerVersion(program: Command): void {
  program
    .command('version')
    .description('print the kur version')
    .action((_opts, command: Command) => {
      const ctx = contextFrom(command);
      const data = {
        kur: kurVersion(),
        node: process.version,
        platform: `${process.platform}/${process.arch}`,
      };
      printResult(ctx, data, () => `kur ${data.kur} (node ${data.node}, ${data.platform})`);
    });
}
