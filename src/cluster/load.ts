import { createReadStream, createWriteStream, promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Engine } from '../engine/types.js';
import { KurError, isKurError } from '../util/errors.js';
import type { Logger } from '../util/logger.js';
import { clusterNodes, type ClusterNode } from './clusters.js';
import { nodePaths, parseNodeEnv } from '../node/layout.js';
import { readFile, run } from './node-ops.js';

/**
 * Loading images into a cluster's nodes without a registry: the image archive is taken from the
 * engine (or a file) through the API and streamed into each node's containerd with `ctr import`
 * over exec stdin. Works the same on Docker and Podman; no docker or podman CLI involved.
 */
export interface LoadOptions {
  engine: Engine;
  logger: Logger;
  cluster: string;
  /** Node names to load into; default every node of the cluster. */
  nodes?: string[];
}

export interface LoadResult {
  images: string[];
  /** Node name -> images imported there (images a node already had are skipped). */
  loaded: Record<string, string[]>;
  skipped: Record<string, string[]>;
}

async function targetNodes(
  engine: Engine,
  cluster: string,
  only: string[] | undefined,
): Promise<ClusterNode[]> {
  const nodes = await clusterNodes(engine, cluster);
  if (only === undefined || only.length === 0) return nodes;
  const unknown = only.filter((n) => !nodes.some((node) => node.name === n));
  if (unknown.length > 0) {
    throw new KurError('notFound', `cluster "${cluster}" has no node ${unknown.join(', ')}`, {
      hint: `Its nodes are: ${nodes.map((n) => n.name).join(', ')}.`,
    });
  }
  return nodes.filter((n) => only.includes(n.name));
}

/** Image IDs (config digests) a node's containerd holds, from the CRI's view. */
async function nodeImageIds(engine: Engine, node: ClusterNode): Promise<Set<string>> {
  const out = await run(engine, node, ['crictl', 'images', '-o', 'json'], { timeoutMs: 30_000 });
  const parsed = JSON.parse(out) as { images?: { id: string }[] };
  return new Set((parsed.images ?? []).map((i) => i.id));
}

async function importArchive(engine: Engine, node: ClusterNode, archive: string): Promise<void> {
  const facts = parseNodeEnv(await readFile(engine, node, nodePaths.nodeEnv));
  await run(
    engine,
    node,
    [
      'ctr',
      '--namespace=k8s.io',
      'images',
      'import',
      '--all-platforms',
      '--digests',
      `--snapshotter=${facts.snapshotter}`,
      '-',
    ],
    { stdin: createReadStream(archive), timeoutMs: 15 * 60_000 },
  );
}

/** `kur load docker-image`: images from the engine's own store. */
export async function loadDockerImages(options: LoadOptions & { images: string[] }): Promise<LoadResult> {
  const { engine, images } = options;
  if (images.length === 0) throw new KurError('usage', 'name at least one image to load');
  const ids = new Map<string, string>();
  for (const image of images) {
    try {
      ids.set(image, (await engine.images.inspect(image)).id);
    } catch (error) {
      if (!isKurError(error, 'notFound')) throw error;
      throw new KurError('notFound', `image ${image} is not on the engine (${engine.endpoint.address})`, {
        hint: 'Build or load it into the engine first; kur takes images from the engine kur itself talks to.',
      });
    }
  }
  const nodes = await targetNodes(engine, options.cluster, options.nodes);
  const result: LoadResult = { images, loaded: {}, skipped: {} };
  // Only what some node lacks is exported, once, to a temp file streamed to each node in turn.
  const missing = new Map<string, string[]>();
  await Promise.all(
    nodes.map(async (node) => {
      const present = await nodeImageIds(engine, node);
      const lacks = images.filter((i) => !present.has(ids.get(i)!));
      missing.set(node.name, lacks);
      result.skipped[node.name] = images.filter((i) => present.has(ids.get(i)!));
    }),
  );
  const needed = images.filter((i) => [...missing.values()].some((list) => list.includes(i)));
  if (needed.length === 0) {
    for (const node of nodes) result.loaded[node.name] = [];
    return result;
  }
  const dir = await fs.mkdtemp(join(tmpdir(), 'kur-load-'));
  try {
    const archive = join(dir, 'images.tar');
    await pipeline(await engine.images.save(needed), createWriteStream(archive));
    await Promise.all(
      nodes.map(async (node) => {
        const lacks = missing.get(node.name) ?? [];
        if (lacks.length > 0) await importArchive(engine, node, archive);
        result.loaded[node.name] = lacks;
      }),
    );
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
  return result;
}

/** `kur load image-archive`: a docker-archive or OCI archive file from disk. */
export async function loadImageArchive(options: LoadOptions & { archive: string }): Promise<LoadResult> {
  try {
    await fs.access(options.archive);
  } catch {
    throw new KurError('notFound', `image archive ${options.archive} does not exist`, {
      hint: 'Pass the path of a docker-archive or OCI archive file (e.g. from docker save -o FILE).',
    });
  }
  const nodes = await targetNodes(options.engine, options.cluster, options.nodes);
  const result: LoadResult = { images: [options.archive], loaded: {}, skipped: {} };
  await Promise.all(
    nodes.map(async (node) => {
      await importArchive(options.engine, node, options.archive);
      result.loaded[node.name] = [options.archive];
      result.skipped[node.name] = [];
    }),
  );
  return result;
}
