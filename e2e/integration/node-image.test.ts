import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { chooseAddresses } from '../../src/cluster/addresses.js';
import { listClaims } from '../../src/cluster/claim.js';
import { ensureClusterNetwork, removeClusterNetworkIfUnused } from '../../src/cluster/network.js';
import { run, waitForSystemd } from '../../src/cluster/node-ops.js';
import { nodeContainerSpec } from '../../src/cluster/node-spec.js';
import { normalizeClusterConfig } from '../../src/config/load.js';
import { connectEngine } from '../../src/engine/connect.js';
import { detectEngine, type EngineInfo } from '../../src/engine/detect.js';
import type { Engine } from '../../src/engine/types.js';
import { planCluster } from '../../src/kube/plan.js';
import { loadComponents } from '../../src/nodeimage/components.js';
import { defaultNodeImage } from '../../src/nodeimage/defaults.js';
import { silentLogger } from '../../src/util/logger.js';
import { removeTestObjects, testLabels } from '../support/cleanup.js';
import { describeEachEngine, type TestEngine } from '../support/engines.js';
import { ensureBuilt, runKur } from '../support/kur-cli.js';

/**
 * The node image on every engine: `kur build node-image` loads it (built once, then from the
 * cache), and a node container started from it with kur's node flags boots systemd, runs
 * containerd, has the pinned Kubernetes, and holds every preloaded image in its containerd.
 */
describeEachEngine('node image', (target: TestEngine) => {
  const runId = randomBytes(3).toString('hex');
  const name = `kur-nodeimage-${runId}`;
  const manifest = loadComponents();
  let engine: Engine;
  let info: EngineInfo;
  let builtImageId: string;

  before(async function () {
    // The first build on a machine compiles Kubernetes (20+ minutes on 2 cores).
    this.timeout(60 * 60_000);
    ensureBuilt();
    const built = await runKur(['--host', target.host, '-q', '-o', 'json', 'build', 'node-image']);
    expect(built.code, built.stderr).to.equal(0);
    builtImageId = (JSON.parse(built.stdout) as { imageId: string }).imageId;
    engine = await connectEngine({ host: target.host, env: {}, logger: silentLogger });
    info = await detectEngine(engine, { logger: silentLogger });
    const plan = planCluster(normalizeClusterConfig({ name: `kur-nodeimage-${runId}` }), {
      rootless: info.rootless,
      cgroupVersion: info.cgroupVersion ?? 2,
      cgroupDriver: 'systemd',
      snapshotter: 'overlayfs',
      provider: info.provider,
      kubernetesVersion: manifest.kubernetes,
      images: { node: defaultNodeImage(), pause: '', flannel: '' },
    });
    const network = await ensureClusterNetwork(engine, { mtu: info.bridgeMtu, logger: silentLogger });
    const attached = Object.values((await engine.networks.inspect('kur')).containers).map(
      (c) => c.ipv4Address.split('/')[0] ?? '',
    );
    const claimed = (await listClaims(engine)).flatMap((c) => Object.values(c.claim.addresses));
    const [ipv4] = chooseAddresses(network.plan, new Set([...attached, ...claimed]), 1);
    const spec = nodeContainerSpec(
      plan,
      plan.nodes[0]!,
      info,
      { hasLibModules: false, hasDevFuse: true },
      { runId, ipv4: ipv4! },
    );
    const id = await engine.containers.create({
      ...spec,
      name,
      labels: { ...spec.labels, ...testLabels(runId) },
    });
    await engine.containers.start(id);
  });

  after(async function () {
    this.timeout(120_000);
    if (engine === undefined) return;
    await removeTestObjects(engine, runId);
    await removeClusterNetworkIfUnused(engine, silentLogger);
    engine.close();
  });

  it('boots systemd to running (or degraded) with containerd active', async function () {
    this.timeout(180_000);
    const state = await waitForSystemd(engine, { name }, { timeoutMs: 150_000, logger: silentLogger });
    expect(state).to.be.oneOf(['running', 'degraded']);
    expect((await run(engine, { name }, ['systemctl', 'is-active', 'containerd'])).trim()).to.equal('active');
  });

  it(`runs the pinned Kubernetes (${manifest.kubernetes})`, async () => {
    expect(await run(engine, { name }, ['kubelet', '--version'])).to.contain(manifest.kubernetes);
    expect(await run(engine, { name }, ['kubeadm', 'version', '-o', 'short'])).to.contain(
      manifest.kubernetes,
    );
  });

  it('holds every preloaded image, pinned, in containerd (crictl images)', async function () {
    this.timeout(60_000);
    const listed = JSON.parse(await run(engine, { name }, ['crictl', 'images', '-o', 'json'])) as {
      images: { repoTags: string[]; pinned: boolean }[];
    };
    const tags = listed.images.flatMap((i) => i.repoTags);
    for (const image of manifest.images) expect(tags, image.name).to.include(image.name);
    expect(listed.images.every((i) => i.pinned)).to.equal(true);
  });

  it('records every component in /etc/kur/manifest.json', async () => {
    const recorded = JSON.parse(await run(engine, { name }, ['cat', '/etc/kur/manifest.json'])) as {
      kubernetes: string;
      components: { name: string; version: string; files: { sha256: string }[] }[];
    };
    expect(recorded.kubernetes).to.equal(manifest.kubernetes);
    for (const component of manifest.components) {
      const entry = recorded.components.find((c) => c.name === component.name);
      expect(entry, component.name).to.not.equal(undefined);
      expect(entry!.version).to.equal(component.version);
      expect(entry!.files.every((f) => /^[0-9a-f]{64}$/.test(f.sha256))).to.equal(true);
    }
  });

  it('is reproducible: the engine holds the computed ID, and a rebuild under another name gives it again', async function () {
    this.timeout(5 * 60_000);
    expect((await engine.images.inspect(defaultNodeImage())).id).to.equal(builtImageId);
    const dir = mkdtempSync(join(tmpdir(), 'kur-repro-'));
    try {
      const again = await runKur([
        '--host',
        target.host,
        '-q',
        '-o',
        'json',
        'build',
        'node-image',
        '--image',
        `kur.local/node:repro-${runId}`,
        '--archive',
        join(dir, 'node.tar'),
        '--no-load',
      ]);
      expect(again.code, again.stderr).to.equal(0);
      expect((JSON.parse(again.stdout) as { imageId: string }).imageId).to.equal(builtImageId);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
