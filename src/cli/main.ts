import { Command, CommanderError, Option } from 'commander';
import { reportError } from './error-handler.js';
import { registerInfo } from './info.js';
import { registerBuild } from './build-node-image.js';
import { registerCreateCluster } from './create-cluster.js';
import { registerDeleteCluster } from './delete-cluster.js';
import { registerStartCluster } from './start-cluster.js';
import { registerStopCluster } from './stop-cluster.js';
import { registerExport } from './export.js';
import { registerLoad } from './load.js';
import { registerGet } from './get.js';
import { registerCreateRegistry, registerDeleteRegistry, registerGetRegistries } from './registry.js';
import { registerServe } from './serve.js';
import { registerVersion } from './version.js';
import { kurVersion } from '../version.js';
import { exitCodes } from '../util/errors.js';

/** Builds the command tree. Each command file registers itself and calls one core function. */
export function buildProgram(): Command {
  const program = new Command('kur')
    .description('Disposable Kubernetes clusters in containers, on rootless Docker or Podman')
    .version(kurVersion(), '--version', 'print the kur version')
    .option('-v, --verbose', 'debug logging, plain progress, stack traces on error')
    .option('-q, --quiet', 'no progress output, only results and errors')
    .addOption(new Option('-o, --output <format>', 'result format').choices(['text', 'json']).default('text'))
    .option('--host <endpoint>', 'engine endpoint (unix:///path or tcp://host:port); env KUR_HOST')
    .showHelpAfterError()
    .exitOverride();
  registerVersion(program);
  registerInfo(program);
  const create = program.command('create').description('create a cluster or a local registry');
  registerCreateCluster(create);
  registerCreateRegistry(create);
  const del = program.command('delete').description('delete a cluster or a local registry');
  registerDeleteCluster(del);
  registerDeleteRegistry(del);
  registerStopCluster(program.command('stop').description('stop a cluster, keeping its state'));
  registerStartCluster(program.command('start').description('start a stopped cluster'));
  const get = program
    .command('get')
    .description('list clusters, nodes, services, registries, or print a kubeconfig');
  registerGet(get);
  registerGetRegistries(get);
  registerServe(
    program.command('serve').description('run a host-side controller for a cluster in the foreground'),
  );
  registerExport(program.command('export').description('export a kubeconfig or logs'));
  registerBuild(program.command('build').description('build a node image'));
  registerLoad(program.command('load').description('load images into a cluster without a registry'));
  return program;
}

export async function main(argv: string[] = process.argv): Promise<number> {
  const program = buildProgram();
  const verbose = argv.includes('-v') || argv.includes('--verbose');
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      // commander already printed usage errors; help and --version exit cleanly.
      if (error.exitCode === 0) return 0;
      return exitCodes.usage;
    }
    const report = reportError(error, verbose);
    process.stderr.write(`${report.text}\n`);
    return report.exitCode;
  }
}
