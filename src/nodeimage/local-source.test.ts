import { expect } from 'chai';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sha256File } from '../util/cache.js';
import { kurFailure } from '../../e2e/support/assert.js';
import { loadComponents } from './components.js';
import { localComponents } from './local-source.js';
import { fakeBinary, writeTar, type TarEntry } from './testdata/release-server.js';

const manifest = loadComponents();
/** Every binary a node image needs: the node's own and the preloaded images'. */
const required = [
  ...new Set([
    ...Object.values(manifest.nodeBinaries),
    ...manifest.images.flatMap((i) => Object.values(i.binaries)),
  ]),
];
const kubernetesLinks = manifest.components.find((c) => c.name === 'kubernetes')!.go.builds[0]!.links!;

describe('local source', () => {
  let dir: string;
  let cacheDir: string;
  beforeEach(async () => {
    dir = await fs.mkdtemp(join(tmpdir(), 'kur-local-'));
    cacheDir = join(dir, 'cache');
  });
  afterEach(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  async function binariesDir(name: string, skip: string[] = []): Promise<string> {
    const bin = join(dir, name);
    for (const binary of required) if (!skip.includes(binary)) await fakeBinary(bin, binary, 'v0');
    return bin;
  }

  it('finds every binary of a directory, with its sha256 and a local: source', async () => {
    const bin = await binariesDir('bin');
    const local = await localComponents(manifest, bin, { cacheDir });
    expect(local.source).to.equal(`local:${bin}`);
    expect([...local.binaries.keys()].sort()).to.deep.equal([...required].sort());
    const kubelet = local.binaries.get('kubelet')!;
    expect(kubelet).to.equal(join(bin, 'kubelet'));
    expect(local.sha256.get(kubelet)).to.equal(await sha256File(kubelet));
    expect([...local.components.get('containerd')!.binaries.keys()].sort()).to.deep.equal([
      'containerd',
      'containerd-shim-runc-v2',
      'ctr',
    ]);
    expect(local.components.get('kubernetes')!.component.version).to.equal(manifest.kubernetes);
  });

  it('lists exactly the required binaries that are missing and who needs them', async () => {
    const bin = await binariesDir('bin', ['kubelet', 'bridge', 'coredns']);
    const error = await kurFailure(localComponents(manifest, bin, { cacheDir }));
    expect(error.kind).to.equal('build');
    expect(error.message).to.equal(`local binaries in ${bin}: missing kubelet, bridge, coredns`);
    expect(error.detail).to.equal(
      [
        'kubelet: needed by the node /usr/local/bin/kubelet',
        'bridge: needed by the node /opt/cni/bin/bridge',
        'coredns: needed by the image registry.k8s.io/coredns/coredns:v1.14.6',
      ].join('\n'),
    );
  });

  it('does not ask for components taken from elsewhere', async () => {
    const bin = await binariesDir('bin', ['pause', 'flannel']);
    const local = await localComponents(manifest, bin, { cacheDir, exclude: ['pause', 'flannel-cni'] });
    expect(local.binaries.has('pause')).to.equal(false);
    expect(local.components.has('flannel-cni')).to.equal(false);
  });

  it('takes a multi-call kube for its links, present as symlinks or not', async () => {
    const bin = await binariesDir('bin', kubernetesLinks);
    await fakeBinary(bin, 'kube', 'v0');
    await fs.symlink('kube', join(bin, 'kube-apiserver'));
    const local = await localComponents(manifest, bin, { cacheDir });
    for (const link of kubernetesLinks) expect(local.binaries.get(link), link).to.equal(join(bin, 'kube'));
    // One file, one checksum, however many names.
    expect([...local.sha256.keys()].filter((f) => f.endsWith('/kube'))).to.have.length(1);
  });

  it('unpacks a .tgz of a folder once (keyed by content) and reads it like a directory', async () => {
    const bin = await binariesDir('src', kubernetesLinks);
    await fakeBinary(bin, 'kube', 'v0');
    const entries: TarEntry[] = (await fs.readdir(bin)).sort().map((name) => ({
      name: `./kur-bins/${name}`,
      file: join(bin, name),
    }));
    for (const link of kubernetesLinks) entries.push({ name: `./kur-bins/${link}`, symlink: 'kube' });
    const archive = join(dir, 'bins.tgz');
    await writeTar(archive, entries);
    const first = await localComponents(manifest, archive, { cacheDir });
    expect(first.source).to.equal(`local:${archive}`);
    expect([...first.binaries.keys()].sort()).to.deep.equal([...required, 'kube'].sort());
    const kubelet = first.binaries.get('kubelet')!;
    expect(kubelet.startsWith(join(cacheDir, 'local'))).to.equal(true);
    expect(kubelet.endsWith('/kur-bins/kube')).to.equal(true);
    expect(first.sha256.get(kubelet)).to.equal(await sha256File(join(bin, 'kube')));
    expect(first.components.get('runc')!.cached).to.equal(false);
    const second = await localComponents(manifest, archive, { cacheDir });
    expect(second.components.get('runc')!.cached).to.equal(true);
    expect(second.binaries).to.deep.equal(first.binaries);
  });

  it('names what a plain .tar lacks', async () => {
    const bin = await binariesDir('src', ['crictl']);
    const archive = join(dir, 'bins.tar');
    await writeTar(
      archive,
      (await fs.readdir(bin)).map((name) => ({ name, file: join(bin, name) })),
      false,
    );
    const error = await kurFailure(localComponents(manifest, archive, { cacheDir }));
    expect(error.message).to.equal(`local binaries in ${archive}: missing crictl`);
  });

  it('refuses tarball entries and links that leave the archive', async () => {
    const file = await fakeBinary(join(dir, 'src'), 'kubelet', 'v0');
    for (const entries of [
      [{ name: '../kubelet', file }],
      [{ name: 'kubelet', symlink: '/usr/bin/kubelet' }],
      [{ name: 'kubelet', symlink: '../../kubelet' }],
    ] as TarEntry[][]) {
      const archive = join(dir, 'evil.tgz');
      await writeTar(archive, entries);
      const error = await kurFailure(localComponents(manifest, archive, { cacheDir }));
      expect(error.message).to.match(/points outside the archive$/);
      expect(await fs.readdir(join(cacheDir, 'local'))).to.deep.equal([]);
    }
  });

  it('says what a path must be', async () => {
    const missing = await kurFailure(localComponents(manifest, join(dir, 'nope'), { cacheDir }));
    expect(missing.kind).to.equal('usage');
    expect(missing.message).to.contain('does not exist');
    const zip = join(dir, 'bins.zip');
    await fs.writeFile(zip, 'PK');
    const wrong = await kurFailure(localComponents(manifest, zip, { cacheDir }));
    expect(wrong.message).to.contain('is neither a directory nor a .tar/.tar.gz/.tgz file');
  });
});
