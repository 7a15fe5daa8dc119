import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { expect } from 'chai';
import { packEntries, readEntries, streamToBuffer, type ArchiveEntry } from './archive.js';
import type { KurError } from './errors.js';
import { imageArchiveStream, type ImageArchiveSpec } from './image-archive.js';

const files: ArchiveEntry[] = [
  { type: 'directory', path: 'bin' },
  { type: 'file', path: 'bin/hello', content: 'echo hello\n', mode: 0o755 },
  { type: 'symlink', path: 'bin/hi', target: 'hello' },
];
const extra: ArchiveEntry[] = [
  { type: 'file', path: 'etc/motd', content: 'kur\n', mode: 0o644, uid: 0, gid: 0 },
];

async function archive(spec: ImageArchiveSpec) {
  const { stream, result } = imageArchiveStream(spec);
  const bytes = await streamToBuffer(stream);
  return { bytes, result: await result };
}

const sha = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

describe('image archive', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'kur-image-test-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const spec = (layers: ImageArchiveSpec['layers']): ImageArchiveSpec => ({
    repoTags: ['kur.local/test:1', 'kur.local/test:latest'],
    config: {
      architecture: 'amd64',
      entrypoint: ['/bin/hello'],
      cmd: ['world'],
      env: ['PATH=/bin', 'container=docker'],
      labels: { 'dev.kur.test': 'true', a: 'b' },
      stopSignal: 'SIGRTMIN+3',
      volumes: ['/var'],
    },
    layers,
  });

  it('writes the docker-archive layout with digests that match the contents', async () => {
    const { bytes, result } = await archive(spec([{ entries: files }, { entries: extra, comment: 'motd' }]));
    const entries = await readEntries(packEntriesFrom(bytes));
    const byName = new Map(entries.map((e) => [e.path, e]));
    const manifest = JSON.parse(byName.get('manifest.json')!.content.toString()) as {
      Config: string;
      RepoTags: string[];
      Layers: string[];
    }[];
    expect(manifest).to.have.length(1);
    const [image] = manifest;
    expect(image!.RepoTags).to.deep.equal(['kur.local/test:1', 'kur.local/test:latest']);

    const configBytes = byName.get(image!.Config)!.content;
    expect(image!.Config).to.equal(`${sha(configBytes)}.json`);
    expect(result.imageId).to.equal(`sha256:${sha(configBytes)}`);

    const layerDigests = image!.Layers.map((name) => `sha256:${sha(byName.get(name)!.content)}`);
    const config = JSON.parse(configBytes.toString()) as Record<string, unknown> & {
      rootfs: { diff_ids: string[] };
      config: Record<string, unknown>;
      history: { created_by: string }[];
    };
    expect(config.rootfs.diff_ids).to.deep.equal(layerDigests);
    expect(result.diffIds).to.deep.equal(layerDigests);
    expect(image!.Layers.map((name) => name.replace('/layer.tar', ''))).to.deep.equal(
      layerDigests.map((d) => d.slice('sha256:'.length)),
    );
    expect(config).to.include({ architecture: 'amd64', os: 'linux', created: '1970-01-01T00:00:00Z' });
    expect(config.config).to.deep.equal({
      Env: ['PATH=/bin', 'container=docker'],
      Entrypoint: ['/bin/hello'],
      Cmd: ['world'],
      Volumes: { '/var': {} },
      Labels: { a: 'b', 'dev.kur.test': 'true' },
      StopSignal: 'SIGRTMIN+3',
    });
    expect(config.history.map((h) => h.created_by)).to.deep.equal(['kur layer 1', 'motd']);

    // The first layer holds exactly the entries given, modes kept.
    const layer = await readEntries(packEntriesFrom(byName.get(image!.Layers[0]!)!.content));
    expect(layer.map((e) => [e.path, e.type, e.mode])).to.deep.equal([
      ['bin', 'directory', 0o755],
      ['bin/hello', 'file', 0o755],
      ['bin/hi', 'symlink', 0o777],
    ]);
    const repositories = JSON.parse(byName.get('repositories')!.content.toString()) as Record<
      string,
      unknown
    >;
    expect(repositories).to.deep.equal({
      'kur.local/test': { '1': layerDigests[1]!.slice(7), latest: layerDigests[1]!.slice(7) },
    });
  });

  it('gives the same bytes and image ID for the same inputs, from files, streams or entries', async () => {
    const layerBytes = await streamToBuffer(packEntries(files));
    const path = join(dir, 'layer.tar');
    writeFileSync(path, layerBytes);
    const fromEntries = await archive(spec([{ entries: files }]));
    const fromFile = await archive(spec([{ path }]));
    const fromStream = await archive(spec([{ stream: packEntries(files) }]));
    expect(fromFile.bytes.equals(fromEntries.bytes)).to.equal(true);
    expect(fromStream.bytes.equals(fromEntries.bytes)).to.equal(true);
    expect(fromEntries.result.diffIds).to.deep.equal([`sha256:${sha(layerBytes)}`]);
    const again = await archive(spec([{ entries: files }]));
    expect(again.result.imageId).to.equal(fromEntries.result.imageId);
  });

  it('stores an identical layer once and references it twice', async () => {
    const { bytes, result } = await archive(spec([{ entries: files }, { entries: files }]));
    const names = (await readEntries(packEntriesFrom(bytes))).map((e) => e.path);
    expect(result.diffIds[0]).to.equal(result.diffIds[1]);
    expect(names.filter((n) => n.endsWith('layer.tar'))).to.have.length(1);
  });

  it('refuses compressed or empty layers and untagged names', async () => {
    const gz = join(dir, 'layer.tar.gz');
    writeFileSync(gz, gzipSync(await streamToBuffer(packEntries(files))));
    const empty = join(dir, 'empty.tar');
    writeFileSync(empty, '');
    const failure = async (s: ImageArchiveSpec): Promise<KurError> => {
      try {
        await archive(s);
      } catch (error) {
        return error as KurError;
      }
      throw new Error('expected a failure');
    };
    expect((await failure(spec([{ path: gz }]))).message).to.match(/gzip-compressed/);
    expect((await failure(spec([{ path: empty }]))).message).to.match(/is empty/);
    expect((await failure(spec([{ path: join(dir, 'missing.tar') }]))).message).to.match(
      /cannot read image layer/,
    );
    const untagged = { ...spec([{ entries: files }]), repoTags: ['kur.local/test'] };
    expect((await failure(untagged)).kind).to.equal('build');
  });
});

/** readEntries wants a stream. */
function packEntriesFrom(bytes: Buffer): NodeJS.ReadableStream {
  return Readable.from([bytes]);
}
