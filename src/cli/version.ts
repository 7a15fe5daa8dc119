import type { Command } from 'commander';
import type { VersionResult } from '../api/results.js';
import { kurVersion } from '../version.js';
import { contextFrom } from './context.js';
import { printResult } from './output.js';

export function registerVersion(program: Command): void {
  program
    .command('version')
    .description('print the kur version')
    .action((_opts, command: Command) => {
      const ctx = contextFrom(command);
      const data: VersionResult = {
        kur: kurVersion(),
        node: process.version,
        platform: `${process.platform}/${process.arch}`,
      };
      printResult(ctx, data, (d) => `kur ${d.kur} (node ${d.node}, ${d.platform})`);
    });
}
