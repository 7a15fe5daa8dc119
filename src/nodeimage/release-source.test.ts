import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { cacheKey, sha256File } from '../util/cache.js';
import { kurFailure } from '../../e2e/support/assert.js';
import { silentLogger } from '../util/logger.js';
import { loadComponents, type Component } from './components.js';
import {
  expandTemplate,
  fetchReleaseComponent,
  mirrorUrl,
  parseChecksum,
  type ReleaseOptions,
} from './release-source.js';
import {
  fakeBinary,
  mirrorPath,
  publishRelease,
  sha256Of,
  startReleaseServer,
  type ReleaseServer,
} from './testdata/release-server.js';

const run = promisify(execFile);
const manifest = loadComponents();
const component = (name: string): Component => {
  const found = manifest.components.find((c) => c.name === name);
  if (found === undefined) throw new Error(`no component ${name} in images/components.json`);
  return found;
};

/** Everything under <cache>/release: an entry, or anything a failed attempt left behind. */
async function releaseCache(cacheDir: string): Promise<string[]> {
  try {
    return await fs.readdir(join(cacheDir, 'release'));
  } catch {
    return [];
  }
}

describe('release source', () => {
  let dir: string;
  let root: string;
  let cacheDir: string;
  let server: ReleaseServer;
  let options: ReleaseOptions;

  /** Where the server is asked for `c`'s release archive. */
  const servedPath = (c: Component): string =>
    new URL(mirrorUrl(expandTemplate(c.release!.url, c.version), server.url)).pathname;

  /** Fake binaries for every name `c`'s release lists, published under the server root. */
  async function publish(c: Component, extraSums: string[] = []) {
    const binaries = new Map<string, string>();
    for (const binary of Object.values(c.release!.files)) {
      binaries.set(binary, await fakeBinary(join(dir, 'bin', c.name), binary, c.version));
    }
    return publishRelease(root, c, binaries, extraSums);
  }

  beforeEach(async () => {
    dir = await fs.mkdtemp(join(tmpdir(), 'kur-release-'));
    root = join(dir, 'www');
    cacheDir = join(dir, 'cache');
    server = await startReleaseServer(root);
    options = { cacheDir, logger: silentLogger, mirror: server.url };
  });
  afterEach(async () => {
    await server.close();
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('maps official URLs under a mirror and expands version templates', () => {
    expect(expandTemplate('coredns_{versionNoV}_{version}.tgz', 'v1.14.6')).to.equal(
      'coredns_1.14.6_v1.14.6.tgz',
    );
    expect(mirrorUrl('https://dl.k8s.io/v1.37.2/k.tar.gz', 'http://m.local/pub/')).to.equal(
      'http://m.local/pub/dl.k8s.io/v1.37.2/k.tar.gz',
    );
    expect(mirrorUrl('https://dl.k8s.io/x', undefined)).to.equal('https://dl.k8s.io/x');
  });

  it('parses both checksum formats and picks the line for the file', () => {
    const a = 'a'.repeat(64);
    const b = 'B'.repeat(64);
    expect(parseChecksum(`${a}`, 'hash', 'x.tgz')).to.equal(a);
    expect(parseChecksum(`${a}  other.tgz\n${b} *dir/x.tgz\n`, 'sha256sum', 'x.tgz')).to.equal(
      b.toLowerCase(),
    );
    expect(parseChecksum(`${a}  other.tgz\n`, 'sha256sum', 'x.tgz')).to.equal(undefined);
    expect(parseChecksum('<html>not found</html>', 'hash', 'x.tgz')).to.equal(undefined);
  });

  it('downloads, verifies, extracts and caches the Kubernetes server tarball; the second call asks nothing', async () => {
    const kubernetes = component('kubernetes');
    const published = await publish(kubernetes);
    const first = await fetchReleaseComponent(kubernetes, options);
    expect(first.cached).to.equal(false);
    expect(server.requests).to.deep.equal([
      '/dl.k8s.io/v1.37.2/kubernetes-server-linux-amd64.tar.gz.sha256',
      '/dl.k8s.io/v1.37.2/kubernetes-server-linux-amd64.tar.gz',
    ]);
    expect([...first.binaries.keys()].sort()).to.deep.equal(Object.values(kubernetes.release!.files).sort());
    expect(first.sha256).to.equal(published.sha256);
    expect(first.source).to.equal(
      `${server.url}/dl.k8s.io/v1.37.2/kubernetes-server-linux-amd64.tar.gz (sha256 ${published.sha256})`,
    );
    const kubelet = first.binaries.get('kubelet')!;
    // Packed 0644: extraction makes them executable.
    expect((await fs.stat(kubelet)).mode & 0o777).to.equal(0o755);
    expect((await run(kubelet, [])).stdout.trim()).to.equal('kubelet version v1.37.2');
    expect(await sha256File(kubelet)).to.equal(await sha256File(join(dir, 'bin', 'kubernetes', 'kubelet')));
    expect(await fs.readdir(join(cacheDir, 'release'))).to.have.length(1);

    const second = await fetchReleaseComponent(kubernetes, options);
    expect(second.cached).to.equal(true);
    expect(server.requests).to.have.length(2);
    expect(second.binaries).to.deep.equal(first.binaries);
    expect(second.source).to.equal(first.source);
  });

  it('picks the right line of a shared sha256sum list (etcd SHA256SUMS)', async () => {
    const etcd = component('etcd');
    const decoys = [
      `${sha256Of('arm64')}  etcd-v3.7.0-linux-arm64.tar.gz`,
      `${sha256Of('darwin')}  etcd-v3.7.0-darwin-amd64.zip`,
    ];
    const published = await publish(etcd, decoys);
    const sums = await fs.readFile(
      mirrorPath(root, 'https://github.com/etcd-io/etcd/releases/download/v3.7.0/SHA256SUMS'),
      'utf8',
    );
    expect(sums.split('\n').filter((l) => l !== '')).to.have.length(3);
    const fetched = await fetchReleaseComponent(etcd, options);
    expect(fetched.sha256).to.equal(published.sha256);
    expect((await run(fetched.binaries.get('etcdctl')!, [])).stdout.trim()).to.equal(
      'etcdctl version v3.7.0',
    );
  });

  it('installs a raw binary (runc, archive: false) checked against runc.sha256sum', async () => {
    const runc = component('runc');
    const published = await publish(runc, [`${sha256Of('arm64')}  runc.arm64`]);
    const fetched = await fetchReleaseComponent(runc, options);
    const file = fetched.binaries.get('runc')!;
    expect(fetched.sha256).to.equal(published.sha256);
    expect(await sha256File(file)).to.equal(published.sha256);
    expect((await fs.stat(file)).mode & 0o777).to.equal(0o755);
    expect((await fs.readdir(join(file, '..'))).sort()).to.deep.equal(['release.json', 'runc']);
  });

  it('refuses a checksum mismatch, naming expected and actual digests, and leaves no cache entry', async () => {
    const crictl = component('cri-tools');
    const published = await publish(crictl);
    const sums = mirrorPath(root, `${expandTemplate(crictl.release!.url, crictl.version)}.sha256`);
    const wrong = sha256Of('something else');
    await fs.writeFile(sums, wrong);
    const error = await kurFailure(fetchReleaseComponent(crictl, options));
    expect(error.kind).to.equal('build');
    expect(error.message).to.contain('cri-tools v1.37.0');
    expect(error.message).to.contain(`${server.url}/github.com/kubernetes-sigs/cri-tools/releases/download/`);
    expect(error.message).to.contain(`expected sha256 ${wrong}`);
    expect(error.message).to.contain(`got ${published.sha256}`);
    expect(error.hint).to.contain('--source go');
    expect(await releaseCache(cacheDir)).to.deep.equal([]);
  });

  it('fails fast on an unreachable URL (connection refused) and leaves no cache entry', async () => {
    const containerd = component('containerd');
    await publish(containerd);
    await server.close();
    const started = Date.now();
    const error = await kurFailure(fetchReleaseComponent(containerd, options));
    expect(Date.now() - started).to.be.below(5000);
    expect(error.kind).to.equal('build');
    expect(error.message).to.match(
      /containerd v2\.4\.2: cannot download http:\/\/127\.0\.0\.1:\d+\/github\.com\//,
    );
    expect(error.message).to.contain('ECONNREFUSED');
    expect(error.hint).to.contain('--mirror');
    expect(error.hint).to.contain('--source go');
    expect(await releaseCache(cacheDir)).to.deep.equal([]);
    server = await startReleaseServer(root); // for afterEach
  });

  it('reports a 404 with the URL', async () => {
    const cni = component('cni-plugins');
    const published = await publish(cni);
    await fs.rm(published.archive);
    const error = await kurFailure(fetchReleaseComponent(cni, options));
    expect(error.message).to.equal(
      `cni-plugins v1.10.0: ${server.url}/github.com/containernetworking/plugins/releases/download/v1.10.0/cni-plugins-linux-amd64-v1.10.0.tgz answered HTTP 404 Not Found, expected the release file`,
    );
    expect(await releaseCache(cacheDir)).to.deep.equal([]);
  });

  /** Publishes CoreDNS, then serves half of its archive and calls `then` with the response. */
  async function serveHalfOfCoreDns(then: (res: ServerResponse) => void) {
    const coredns = component('coredns');
    const published = await publish(coredns);
    const path = servedPath(coredns);
    const bytes = await fs.readFile(published.archive);
    server.routes.set(path, (_req, res) => {
      res.writeHead(200, { 'content-length': bytes.length });
      res.write(bytes.subarray(0, bytes.length >> 1), () => then(res));
    });
    return { coredns, path };
  }

  it('leaves no cache entry when the connection breaks mid-download', async () => {
    const { coredns, path } = await serveHalfOfCoreDns((res) => res.socket?.destroy());
    const error = await kurFailure(fetchReleaseComponent(coredns, options));
    expect(error.message).to.contain(`coredns v1.14.6: cannot download ${server.url}${path}`);
    expect(await releaseCache(cacheDir)).to.deep.equal([]);
  });

  it("stops on the caller's signal mid-download and leaves no cache entry", async () => {
    const controller = new AbortController();
    const { coredns, path } = await serveHalfOfCoreDns(() => controller.abort());
    const error = await kurFailure(fetchReleaseComponent(coredns, { ...options, signal: controller.signal }));
    expect(error.kind).to.equal('cancelled');
    expect(error.message).to.equal(`coredns v1.14.6: downloading ${server.url}${path} was cancelled`);
    expect(await releaseCache(cacheDir)).to.deep.equal([]);
  });

  it('times out a server that accepts and never answers', async () => {
    const coredns = component('coredns');
    await publish(coredns);
    const path = servedPath(coredns);
    server.routes.set(path, () => undefined);
    const error = await kurFailure(fetchReleaseComponent(coredns, { ...options, timeoutMs: 300 }));
    expect(error.message).to.contain(`${path} sent nothing for 0.3 s`);
    expect(await releaseCache(cacheDir)).to.deep.equal([]);
  });

  it('follows redirects (GitHub sends downloads to another host)', async () => {
    const coredns = component('coredns');
    const published = await publish(coredns);
    const path = servedPath(coredns);
    const moved = join(root, 'objects', 'blob');
    await fs.mkdir(join(root, 'objects'));
    await fs.copyFile(published.archive, moved);
    server.routes.set(path, (_req, res) => res.writeHead(302, { location: '/objects/blob' }).end());
    const fetched = await fetchReleaseComponent(coredns, options);
    expect(server.requests).to.include('/objects/blob');
    expect(fetched.sha256).to.equal(published.sha256);
  });

  it('uses an inline sha256 pin instead of a checksum URL, and refuses a release with neither', async () => {
    const flannel = component('flannel');
    const refused = await kurFailure(fetchReleaseComponent(flannel, options));
    expect(refused.message).to.contain('publishes no checksum, so kur will not use it');
    expect(server.requests).to.deep.equal([]);

    const published = await publish(flannel);
    const pinned: Component = { ...flannel, release: { ...flannel.release!, sha256: published.sha256 } };
    const fetched = await fetchReleaseComponent(pinned, options);
    expect(fetched.sha256).to.equal(published.sha256);
    expect(server.requests).to.have.length(1);

    const wrong: Component = { ...flannel, release: { ...flannel.release!, sha256: sha256Of('x') } };
    const mismatch = await kurFailure(fetchReleaseComponent(wrong, options));
    expect(mismatch.message).to.contain(`expected sha256 ${sha256Of('x')} (pinned in components.json)`);
  });

  it('refuses a component with no release (kur builds it)', async () => {
    const error = await kurFailure(fetchReleaseComponent(component('pause'), options));
    expect(error.message).to.equal('pause 3.10.2 has no upstream release (kur builds it)');
  });

  it('names the archive paths it could not find', async () => {
    const etcd = component('etcd');
    const renamed: Component = {
      ...etcd,
      release: {
        ...etcd.release!,
        files: { ...etcd.release!.files, 'etcd-{version}-linux-amd64/etcdutl': 'etcdutl' },
      },
    };
    await publish(etcd);
    const error = await kurFailure(fetchReleaseComponent(renamed, options));
    expect(error.message).to.match(/lacks etcd-v3\.7\.0-linux-amd64\/etcdutl$/);
    expect(error.detail).to.contain('etcd-v3.7.0-linux-amd64/etcdctl');
    expect(await releaseCache(cacheDir)).to.deep.equal([]);
  });

  it('clears temp directories left by a kur that was killed mid-download', async () => {
    const runc = component('runc');
    await publish(runc);
    const url = mirrorUrl(expandTemplate(runc.release!.url, runc.version), server.url);
    const sumUrl = mirrorUrl(expandTemplate(runc.release!.sha256Url!, runc.version), server.url);
    const key = cacheKey(url, `${sumUrl}\0sha256sum`, JSON.stringify(runc.release!.files));
    const child = await run(process.execPath, ['-p', 'process.pid']);
    const dead = Number(child.stdout.trim());
    const stale = join(cacheDir, 'release', `runc-v1.5.2-${key}.partial-${dead}-1`);
    const live = join(cacheDir, 'release', `runc-v1.5.2-${key}.partial-${process.pid}-1`);
    await fs.mkdir(stale, { recursive: true });
    await fs.mkdir(live);
    await fetchReleaseComponent(runc, options);
    expect((await releaseCache(cacheDir)).sort()).to.deep.equal([
      `runc-v1.5.2-${key}`,
      `runc-v1.5.2-${key}.partial-${process.pid}-1`,
    ]);
  });
});
