import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { packEntries } from '../../util/archive.js';
import { isKurError } from '../../util/errors.js';
import { writeImageArchive } from '../../util/image-archive.js';
import { ociManifestType, pushImageArchive } from './push.js';

const sha256 = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** A registry that keeps blobs and manifests in memory, answering like the distribution API. */
function fakeRegistry(): {
  server: Server;
  blobs: Map<string, Buffer>;
  manifests: Map<string, { type: string; body: Buffer }>;
} {
  const blobs = new Map<string, Buffer>();
  const manifests = new Map<string, { type: string; body: Buffer }>();
  const uploads = new Map<string, Buffer[]>();
  let next = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://x');
      const body = Buffer.concat(chunks);
      const upload = /^\/v2\/(.+)\/blobs\/uploads\/(\w*)$/.exec(url.pathname);
      const manifest = /^\/v2\/(.+)\/manifests\/([\w.-]+)$/.exec(url.pathname);
      if (req.method === 'POST' && upload !== null && upload[2] === '') {
        const id = `u${(next += 1)}`;
        uploads.set(id, []);
        res.writeHead(202, { location: `/v2/${upload[1]}/blobs/uploads/${id}?state=a` }).end();
      } else if (req.method === 'PATCH' && upload !== null && uploads.has(upload[2]!)) {
        uploads.get(upload[2]!)!.push(body);
        // A relative location, as distribution answers.
        res.writeHead(202, { location: `/v2/${upload[1]}/blobs/uploads/${upload[2]}?state=b` }).end();
      } else if (req.method === 'PUT' && upload !== null && uploads.has(upload[2]!)) {
        const data = Buffer.concat([...uploads.get(upload[2]!)!, body]);
        const digest = url.searchParams.get('digest');
        if (digest !== sha256(data) || url.searchParams.get('state') !== 'b') {
          res.writeHead(400).end('DIGEST_INVALID');
          return;
        }
        blobs.set(digest, data);
        res.writeHead(201, { location: `/v2/${upload[1]}/blobs/${digest}` }).end();
      } else if (req.method === 'PUT' && manifest !== null) {
        manifests.set(`${manifest[1]}:${manifest[2]}`, { type: req.headers['content-type'] ?? '', body });
        res.writeHead(201).end();
      } else {
        res.writeHead(404).end('{"errors":[{"code":"NAME_UNKNOWN"}]}');
      }
    });
  });
  return { server, blobs, manifests };
}

describe('pushImageArchive', () => {
  let dir: string;
  let archive: string;
  let registry: ReturnType<typeof fakeRegistry>;
  let base: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kur-push-test-'));
    archive = join(dir, 'image.tar');
    await writeImageArchive(
      {
        repoTags: ['kur.local/push-test:v1'],
        config: { architecture: 'amd64', cmd: ['/hello'] },
        layers: [
          { entries: [{ type: 'file', path: 'hello', content: 'hello\n', mode: 0o755 }] },
          { entries: [{ type: 'file', path: 'etc/greeting', content: 'hi\n' }] },
        ],
      },
      createWriteStream(archive),
    );
    registry = fakeRegistry();
    await new Promise<void>((resolve) => registry.server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(registry.server.address() as AddressInfo).port}`;
  });

  after(() => {
    registry.server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('uploads every layer and the config as blobs, then an OCI manifest naming them by digest', async () => {
    const pushed = await pushImageArchive({
      file: archive,
      registry: base,
      repository: 'e2e/app',
      tag: 'v1',
    });
    const stored = registry.manifests.get('e2e/app:v1');
    expect(stored?.type).to.equal(ociManifestType);
    expect(pushed.digest).to.equal(sha256(stored!.body));
    const manifest = JSON.parse(stored!.body.toString()) as {
      config: { digest: string; size: number };
      layers: { mediaType: string; digest: string; size: number }[];
    };
    expect(manifest.layers).to.have.length(2);
    for (const d of [manifest.config, ...manifest.layers]) {
      expect(registry.blobs.get(d.digest)?.length).to.equal(d.size);
    }
    expect(manifest.layers.map((l) => l.mediaType)).to.deep.equal([
      'application/vnd.oci.image.layer.v1.tar',
      'application/vnd.oci.image.layer.v1.tar',
    ]);
    // The layers are the archive's uncompressed tars: their digests are the image's diff IDs.
    const config = JSON.parse(registry.blobs.get(manifest.config.digest)!.toString()) as {
      rootfs: { diff_ids: string[] };
    };
    expect(config.rootfs.diff_ids).to.deep.equal(manifest.layers.map((l) => l.digest));
  });

  it('says which registry it could not reach, and what the registry answered', async () => {
    const unreachable = await pushImageArchive({
      file: archive,
      registry: 'http://127.0.0.1:1',
      repository: 'e2e/app',
      tag: 'v1',
    }).catch((e: unknown) => e);
    expect(isKurError(unreachable, 'engine') && unreachable.message).to.match(
      /cannot reach the registry at http:\/\/127\.0\.0\.1:1/,
    );
    const refused = await pushImageArchive({
      file: archive,
      registry: base,
      repository: 'e2e/app',
      tag: 'bad tag',
    }).catch((e: unknown) => e);
    expect(isKurError(refused, 'engine') && refused.detail).to.match(/HTTP 404/);
  });

  it('refuses a file that is not a docker-archive', async () => {
    const notArchive = join(dir, 'not.tar');
    await pipeline(
      packEntries([{ type: 'file', path: 'hello', content: 'x' }]),
      createWriteStream(notArchive),
    );
    const error = await pushImageArchive({
      file: notArchive,
      registry: base,
      repository: 'a',
      tag: 'v1',
    }).catch((e: unknown) => e);
    expect(isKurError(error, 'usage') && error.message).to.match(/no manifest.json/);
  });
});
