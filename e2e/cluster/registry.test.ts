import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { expect } from 'chai';
import type { CreateClusterResult } from '../../src/api/results.js';
import { labels } from '../../src/engine/labels.js';
import { pushImageArchive } from '../../src/cluster/registry/push.js';
import type { DeletedRegistry } from '../../src/cluster/registry/registries.js';
import { registryVolumeName, type RegistryRecord } from '../../src/cluster/registry/spec.js';
import { describeClusterEngines } from '../support/cluster-engines.js';
import { E2eRun } from '../support/clusters.js';
import { lifecycle } from '../support/durability.js';
import { clusterObjects, ignoreNotFound } from '../support/engine-objects.js';
import type { Kubectl } from '../support/kubectl.js';
import { expectSuccess, parseJson } from '../support/kur-cli.js';
import { getPod, idlePod, waitForPods } from '../support/workloads.js';

/**
 * A local registry (`kur create registry`): the test pushes its busybox image to it from the host
 * (HTTP to 127.0.0.1:<port>, kur's own push client: no engine in between), and a pod on every
 * node of a three-node cluster created with `registries: [name]` runs it with
 * `imagePullPolicy: Always`, pulled through each node's containerd (hosts.toml).
 */
describeClusterEngines('local registry', (target) => {
  const run = new E2eRun(target, randomBytes(3).toString('hex'));
  const registry = `e2e-${run.id}-reg`;
  const cluster = run.clusterName('reg');
  let created: RegistryRecord;
  let kubectl: Kubectl;
  let clusterResult: CreateClusterResult;
  let pushedDigest: string;

  async function removeRegistry(): Promise<void> {
    const c = await run.engine.containers.inspect(registry).catch(() => undefined);
    if (c !== undefined) await run.engine.containers.remove(c.id, { force: true }).catch(ignoreNotFound);
    await run.engine.volumes.remove(registryVolumeName(registry), { force: true }).catch(ignoreNotFound);
  }

  before(async function () {
    this.timeout(25 * 60_000);
    await run.prepare();
  });

  after(async function () {
    this.timeout(5 * 60_000);
    if (run.engine !== undefined) {
      await run.kur(['delete', 'registry', '--name', registry, '--force']);
      await removeRegistry();
    }
    await run.cleanUp([cluster]);
  });

  it('creates a registry on 127.0.0.1 and refuses a second one of the same name or on a taken port', async function () {
    this.timeout(15 * 60_000);
    const result = await run.kur(['-o', 'json', 'create', 'registry', '--name', registry]);
    expectSuccess(result, 'kur create registry');
    created = parseJson<RegistryRecord>(result, 'create registry');
    expect(created).to.include({
      name: registry,
      state: 'running',
      address: `localhost:${created.hostPort}`,
    });
    const info = await run.engine.containers.inspect(registry);
    expect(info.restartPolicy).to.equal('unless-stopped');
    expect(info.ports.map((p) => `${p.hostIp}:${p.hostPort}`)).to.deep.equal([
      `127.0.0.1:${created.hostPort}`,
    ]);
    expect(Object.keys(info.networks)).to.include('kur');

    const again = await run.kur(['create', 'registry', '--name', registry]);
    expect(again.code, again.stderr).to.equal(7);
    const other = `${registry}2`;
    const portTaken = await run.kur([
      'create',
      'registry',
      '--name',
      other,
      '--port',
      String(created.hostPort),
    ]);
    expect(portTaken.code, portTaken.stderr).to.equal(7);
    expect(portTaken.stderr).to.match(/port .* is in use/);
    // Nothing of the refused one is left.
    expect(await run.engine.containers.list({ labels: { [labels.registry]: other } })).to.deep.equal([]);
    expect((await run.engine.volumes.list()).map((v) => v.name)).not.to.include(registryVolumeName(other));

    const listed = await run.kur(['-o', 'json', 'get', 'registries']);
    expectSuccess(listed, 'kur get registries');
    const names = parseJson<{ registries: RegistryRecord[] }>(listed, 'get registries').registries.map(
      (r) => r.name,
    );
    expect(names).to.include(registry);
  });

  it('takes a push from the host', async function () {
    this.timeout(3 * 60_000);
    const archive = join(run.dir, 'busybox.tar');
    await pipeline(await run.engine.images.save([run.image]), createWriteStream(archive));
    const pushed = await pushImageArchive({
      file: archive,
      registry: `http://127.0.0.1:${created.hostPort}`,
      repository: 'e2e/busybox',
      tag: run.id,
    });
    pushedDigest = pushed.digest;
    const tags = await (await fetch(`http://127.0.0.1:${created.hostPort}/v2/e2e/busybox/tags/list`)).json();
    expect(tags).to.deep.equal({ name: 'e2e/busybox', tags: [run.id] });
  });

  it('refuses a cluster naming a registry that does not exist, before creating anything', async function () {
    this.timeout(2 * 60_000);
    const name = run.clusterName('noreg');
    const result = await run.kur(['create', 'cluster', '--name', name, '--registry', `${registry}-missing`]);
    expect(result.code, result.stderr).to.equal(6);
    expect(result.stderr).to.match(/no local registry named/);
    expect(await clusterObjects(run.engine, name)).to.deep.equal([]);
  });

  it('runs the pushed image on every node of a three-node cluster with imagePullPolicy: Always', async function () {
    this.timeout(20 * 60_000);
    const config =
      'apiVersion: kur.dev/v1alpha1\nkind: Cluster\n' +
      `registries: [${registry}]\n` +
      'nodes:\n  - role: control-plane\n  - role: worker\n  - role: worker\n';
    try {
      clusterResult = await run.createCluster(cluster, { config });
    } catch (error) {
      if ((await clusterObjects(run.engine, cluster)).length > 0)
        await run.exportLogs(cluster, 'create failed');
      throw error;
    }
    kubectl = await run.kubectl(clusterResult);
    const image = `localhost:${created.hostPort}/e2e/busybox:${run.id}`;
    const pods = clusterResult.nodes.map((n, i) => ({ name: `pulled-${i}`, node: n.name }));
    await kubectl.apply(pods.map((p) => idlePod(p.name, image, { node: p.node, imagePullPolicy: 'Always' })));
    await waitForPods(
      kubectl,
      pods.map((p) => p.name),
    );
    for (const p of pods) {
      const status = await getPod(kubectl, p.name);
      expect(status.spec.nodeName).to.equal(p.node);
      expect(status.status.containerStatuses?.[0]?.imageID).to.equal(
        `localhost:${created.hostPort}/e2e/busybox@${pushedDigest}`,
      );
    }
  });

  it('keeps its images across a stop of its container, and kur start cluster starts it again', async function () {
    this.timeout(10 * 60_000);
    // What an engine without a restart service (rootless Podman) leaves after its own restart.
    await lifecycle(run, 'stop', cluster);
    await run.engine.containers.stop(registry, { timeoutSeconds: 5 });
    await lifecycle(run, 'start', cluster);
    expect((await run.engine.containers.inspect(registry)).state.running).to.equal(true);
    const image = `localhost:${created.hostPort}/e2e/busybox:${run.id}`;
    const node = clusterResult.nodes.find((n) => n.role === 'worker')!.name;
    await kubectl.apply([idlePod('pulled-again', image, { node, imagePullPolicy: 'Always' })]);
    await waitForPods(kubectl, ['pulled-again']);
  });

  it('refuses to delete a registry a cluster uses, and deletes it with the cluster gone', async function () {
    this.timeout(5 * 60_000);
    const refused = await run.kur(['delete', 'registry', '--name', registry]);
    expect(refused.code, refused.stderr).to.equal(7);
    expect(refused.stderr).to.include(cluster);
    await run.deleteCluster(cluster);
    const result = await run.kur(['-o', 'json', 'delete', 'registry', '--name', registry]);
    expectSuccess(result, 'kur delete registry');
    const deleted = parseJson<DeletedRegistry>(result, 'delete registry');
    expect(deleted).to.include({ name: registry, volume: registryVolumeName(registry) });
    expect(await run.engine.containers.list({ labels: { [labels.registry]: registry } })).to.deep.equal([]);
    expect((await run.engine.volumes.list()).map((v) => v.name)).not.to.include(registryVolumeName(registry));
    const missing = await run.kur(['delete', 'registry', '--name', registry]);
    expect(missing.code, missing.stderr).to.equal(6);
  });
});
