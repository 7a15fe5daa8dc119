import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import type { BuildNodeImageResult, CreateClusterResult } from '../../src/api/results.js';
import type { RegistryRecord } from '../../src/cluster/registry/spec.js';
import { describeClusterEngines } from '../support/cluster-engines.js';
import { E2eRun } from '../support/clusters.js';
import { clusterObjects } from '../support/engine-objects.js';
import { freeHostPort } from '../../src/cluster/host-ports.js';
import { expectSuccess, parseJson } from '../support/kur-cli.js';

/**
 * The node image through a registry (issue 13): `kur build node-image --push` sends the built
 * image through the engine to a registry kur runs on that same engine (`kur create registry`,
 * the Distribution build), and `kur create cluster --image <registry>/…@<digest>` pulls it back
 * through the engine, which checks the digest. A digest the registry does not have, and a
 * registry that is not there, fail within seconds and leave nothing behind.
 */
describeClusterEngines('node image from a registry', (target) => {
  const run = new E2eRun(target, randomBytes(3).toString('hex'));
  const registry = `e2e-${run.id}-images`;
  const cluster = run.clusterName('pulled');
  let port: number;
  let repository: string;
  let digest: string | undefined;

  /** The manifest digest the registry itself serves for a tag, asked from the host. */
  async function registryDigest(tag: string): Promise<string | undefined> {
    const response = await fetch(`http://127.0.0.1:${port}/v2/kur/node/manifests/${tag}`, {
      method: 'HEAD',
      headers: {
        Accept:
          'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json',
      },
    });
    return response.ok ? (response.headers.get('docker-content-digest') ?? undefined) : undefined;
  }

  before(async function () {
    this.timeout(25 * 60_000);
    await run.prepare();
    const created = await run.kur(['-o', 'json', 'create', 'registry', '--name', registry]);
    expectSuccess(created, 'kur create registry');
    port = parseJson<RegistryRecord>(created, 'create registry').hostPort;
    repository = `127.0.0.1:${port}/kur/node`;
  });

  after(async function () {
    this.timeout(5 * 60_000);
    if (run.engine !== undefined) {
      await run.kur(['delete', 'registry', '--name', registry, '--force']);
      // Only the names this run gave the node image: the image itself stays under kur's name.
      const names = (await run.engine.images.list()).flatMap((i) =>
        i.repoTags.filter((t) => t.startsWith(`${repository}:`)),
      );
      if (digest !== undefined) names.push(`${repository}@${digest}`);
      for (const name of names) await run.engine.images.remove(name).catch(() => undefined);
    }
    await run.cleanUp([cluster]);
  });

  it('pushes the built node image through the engine and reports where it went', async function () {
    this.timeout(20 * 60_000);
    const reference = `${repository}:e2e-${run.id}`;
    const result = await run.kur(['-o', 'json', 'build', 'node-image', '--push', reference]);
    expectSuccess(result, 'kur build node-image --push');
    const built = parseJson<BuildNodeImageResult>(result, 'build node-image');
    expect(built.pushed?.reference).to.equal(reference);
    expect(built.timings.map((t) => t.phase)).to.include(`Push ${reference}`);
    const served = await registryDigest(`e2e-${run.id}`);
    expect(served, 'the registry serves the pushed tag').to.match(/^sha256:[0-9a-f]{64}$/);
    // Docker reports the digest it pushed; Podman 4's API does not (then kur says so).
    if (built.pushed?.digest !== undefined) expect(built.pushed.digest).to.equal(served);
    digest = served!;
    await run.engine.images.remove(reference);
  });

  it('creates a cluster from the pushed digest, pulled through the engine', async function () {
    this.timeout(15 * 60_000);
    const image = `${repository}@${digest}`;
    // Podman resolves a digest against every digest an image has had (a push records the one it
    // made), whatever the name: once this host's node image was pushed, Podman has it by digest
    // and kur rightly pulls nothing. Docker forgets the name with its tag, so it pulls.
    const resolvedBefore = await run.engine.images.inspect(image).then(
      () => true,
      () => false,
    );
    if (resolvedBefore)
      console.log('      (the engine resolves the digest from its own store: create uses it without a pull)');
    const args = ['-o', 'json', 'create', 'cluster', '--name', cluster, '--image', image];
    const result = await run.kur([...args, '--kubeconfig', run.kubeconfigPath(cluster)]);
    expectSuccess(result, `kur create cluster --image ${image}`);
    if (!resolvedBefore) expect(result.stderr).to.include(`Pulling node image ${image}`);
    else expect(result.stderr).to.not.include('Pulling node image');
    const created = parseJson<CreateClusterResult>(result, 'create cluster');
    expect(created.nodes.map((n) => n.role)).to.deep.equal(['control-plane']);
    const node = await run.engine.containers.inspect(`${cluster}-control-plane`);
    expect(node.image).to.equal(image);
    await run.deleteCluster(cluster);
  });

  /** `kur create cluster --image <image>` that must fail and leave nothing; how long it took. */
  async function refusedCreate(suffix: string, image: string) {
    const name = run.clusterName(suffix);
    const started = Date.now();
    const result = await run.kur(['create', 'cluster', '--name', name, '--image', image]);
    const seconds = (Date.now() - started) / 1000;
    console.log(`      (refused after ${seconds.toFixed(1)} s)`);
    expect(result.code, result.stderr).to.not.equal(0);
    expect(result.stderr).to.include(image);
    expect(await clusterObjects(run.engine, name)).to.deep.equal([]);
    return { result, seconds };
  }

  it('refuses a digest the registry does not have, before anything exists', async function () {
    this.timeout(2 * 60_000);
    const { result, seconds } = await refusedCreate('nodigest', `${repository}@sha256:${'0'.repeat(64)}`);
    // Not found (exit 6), whichever way the engine says it (a 404, or an error in its stream).
    expect(result.code, result.stderr).to.equal(6);
    expect(result.stderr).to.match(/cannot pull image/);
    expect(seconds).to.be.below(30);
  });

  it('fails within seconds on a registry that is not there, leaving nothing behind', async function () {
    this.timeout(2 * 60_000);
    const closed = await freeHostPort('127.0.0.1');
    const { seconds } = await refusedCreate('noregistry', `127.0.0.1:${closed}/kur/node:none`);
    expect(seconds).to.be.below(15);
  });
});
