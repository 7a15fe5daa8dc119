import type { Command } from 'commander';
import { createRegistry, deleteRegistry, getRegistries } from '../api/registries.js';
import { defaultRegistryName } from '../config/names.js';
import { validateRegistryPort, type DeletedRegistry } from '../cluster/registry/registries.js';
import type { RegistryRecord } from '../cluster/registry/spec.js';
import { contextFrom, engineOptions, interruptible } from './context.js';
import { printResult, table } from './output.js';

const createHelp = `
Runs Distribution (the registry, built from pinned sources the first time) in a container named
after the registry, published on 127.0.0.1:<port>, its images in the volume <name>-data. Push to
localhost:<port>/<image> from the host; a cluster created with --registry <name> (or
registries: [<name>] in its config) pulls localhost:<port>/<image> through it on every node.`;

function parsePort(value: string): number {
  const port = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  validateRegistryPort(port, value);
  return port;
}

export function registerCreateRegistry(create: Command): void {
  create
    .command('registry')
    .description('run a local registry on 127.0.0.1 that clusters pull localhost:<port>/… images through')
    .option('-n, --name <name>', 'registry name (and container name)', defaultRegistryName)
    .option(
      '-p, --port <port>',
      'host port on 127.0.0.1 (default 5000 when free, else a free one)',
      parsePort,
    )
    .addHelpText('after', createHelp)
    .action(async (flags: { name: string; port?: number }, command: Command) => {
      const ctx = contextFrom(command);
      const registry = await interruptible(ctx, (signal) =>
        createRegistry({
          ...engineOptions(ctx),
          name: flags.name,
          signal,
          ...(flags.port !== undefined ? { port: flags.port } : {}),
        }),
      );
      printResult(ctx, registry, renderCreatedRegistry);
    });
}

export function registerDeleteRegistry(del: Command): void {
  del
    .command('registry')
    .description('delete a local registry: its container and its volume (the images in it)')
    .option('-n, --name <name>', 'registry name', defaultRegistryName)
    .option('--force', 'delete it even when clusters pull through it')
    .action(async (flags: { name: string; force?: boolean }, command: Command) => {
      const ctx = contextFrom(command);
      const deleted = await deleteRegistry({
        ...engineOptions(ctx),
        name: flags.name,
        force: flags.force === true,
      });
      printResult(ctx, deleted, renderDeletedRegistry);
    });
}

export function registerGetRegistries(get: Command): void {
  get
    .command('registries')
    .description('list local registries (kur create registry)')
    .action(async (_flags: object, command: Command) => {
      const ctx = contextFrom(command);
      const registries = await getRegistries(engineOptions(ctx));
      printResult(ctx, { registries }, renderRegistries);
    });
}

export function renderCreatedRegistry(r: RegistryRecord): string {
  return [
    `Registry "${r.name}" is running on ${r.address}.`,
    `Push: docker push ${r.address}/IMAGE (Podman: podman push --tls-verify=false ${r.address}/IMAGE)`,
    `Use it: kur create cluster --registry ${r.name}, then run images named ${r.address}/…`,
  ].join('\n');
}

export function renderDeletedRegistry(d: DeletedRegistry): string {
  return `Deleted registry "${d.name}" (container ${d.container}, volume ${d.volume}).`;
}

export function renderRegistries({ registries }: { registries: RegistryRecord[] }): string {
  if (registries.length === 0) return 'No local registries.';
  return table(
    ['NAME', 'STATE', 'ADDRESS', 'NODES PULL FROM'],
    registries.map((r) => [r.name, r.state, r.address, r.endpoint]),
  );
}
