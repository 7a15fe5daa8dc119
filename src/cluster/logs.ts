import { createWriteStream, promises as fs } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Engine } from '../engine/types.js';
import { nodePaths } from '../node/layout.js';
import { KurError, messageOf } from '../util/errors.js';
import type { Logger } from '../util/logger.js';
import { kurVersion } from '../version.js';
import { listClusters } from './clusters.js';
import { tryRun } from './node-ops.js';

/**
 * `kur export logs`: everything needed to debug a cluster, gathered through the engine API into
 * one directory: per node the journal, kubelet and containerd units, the entrypoint's container
 * log, the engine's inspect, CRI state, and /var/log (pod and container logs).
 */
export interface ExportLogsOptions {
  engine: Engine;
  logger: Logger;
  cluster: string;
  dir: string;
}

export interface ExportedLogs {
  dir: string;
  nodes: string[];
  /** Things that could not be collected (a stopped node cannot run journalctl, ...). */
  problems: string[];
}

const commands: Record<string, string[]> = {
  'journal.log': ['journalctl', '--no-pager', '-o', 'short-precise'],
  'kubelet.log': ['journalctl', '--no-pager', '-o', 'short-precise', '-u', 'kubelet'],
  'containerd.log': ['journalctl', '--no-pager', '-o', 'short-precise', '-u', 'containerd'],
  'systemd-units.txt': ['systemctl', 'list-units', '--all', '--no-pager'],
  'crictl-ps.txt': ['crictl', 'ps', '-a'],
  'crictl-pods.txt': ['crictl', 'pods'],
  'crictl-images.txt': ['crictl', 'images'],
  'ip-addr.txt': ['ip', 'addr'],
  'ip-route.txt': ['ip', 'route'],
  'iptables.txt': ['iptables-save'],
  'kur-node.env': ['cat', nodePaths.nodeEnv],
};

export async function exportLogs(options: ExportLogsOptions): Promise<ExportedLogs> {
  const { engine, cluster, dir } = options;
  const found = (await listClusters(engine)).find((c) => c.name === cluster);
  if (found === undefined) {
    throw new KurError('notFound', `no cluster named "${cluster}"`, {
      hint: 'List clusters with `kur get clusters`.',
    });
  }
  const nodes = found.nodes;
  await fs.mkdir(dir, { recursive: true });
  const problems: string[] = [];
  const note = (what: string, error: unknown): void => {
    problems.push(`${what}: ${messageOf(error)}`);
  };
  await fs.writeFile(
    join(dir, 'kur-version.txt'),
    `kur ${kurVersion()}\nengine ${engine.endpoint.provider} ${engine.endpoint.version} at ${engine.endpoint.address}\n`,
  );
  await Promise.all(
    nodes.map(async (node) => {
      const nodeDir = join(dir, node.name);
      await fs.mkdir(nodeDir, { recursive: true });
      try {
        const info = await engine.containers.inspect(node.name);
        await fs.writeFile(join(nodeDir, 'inspect.json'), `${JSON.stringify(info, null, 2)}\n`);
        const logs = await engine.containers.logs(node.name);
        await fs.writeFile(join(nodeDir, 'container.log'), `${logs.stdout}${logs.stderr}`);
      } catch (error) {
        note(`${node.name} inspect/logs`, error);
      }
      if (node.role === 'load-balancer') return;
      if (node.state !== 'running') {
        problems.push(`${node.name} is ${node.state}: only its container log and inspect were collected`);
        return;
      }
      for (const [file, cmd] of Object.entries(commands)) {
        try {
          const result = await tryRun(engine, node, cmd, 60_000);
          await fs.writeFile(join(nodeDir, file), `${result.stdout}${result.stderr}`);
        } catch (error) {
          note(`${node.name} ${file}`, error);
        }
      }
      try {
        await pipeline(
          await engine.containers.getArchive(node.name, '/var/log'),
          createWriteStream(join(nodeDir, 'var-log.tar')),
        );
      } catch (error) {
        note(`${node.name} /var/log`, error);
      }
    }),
  );
  return { dir, nodes: nodes.map((n) => n.name), problems };
}
