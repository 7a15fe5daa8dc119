import { expect } from 'chai';
import { isLoopbackRegistry } from './object-api.js';
import { formatTransfer, TransferTracker } from './transfer-progress.js';

const lines = (records: object[]) => records.map((r) => JSON.stringify(r));

describe('TransferTracker: an engine pull or push stream summed up', () => {
  it('counts layers and bytes of a pull, and reads the digest', () => {
    const t = new TransferTracker();
    const changed = lines([
      { status: 'Pulling from kur/node', id: 'v1' },
      { status: 'Pulling fs layer', progressDetail: {}, id: 'aaa' },
      { status: 'Already exists', progressDetail: {}, id: 'bbb' },
      { status: 'Downloading', progressDetail: { current: 1048576, total: 4194304 }, id: 'aaa' },
    ]).map((l) => t.feed(l));
    expect(changed).to.deep.equal([false, true, true, true]);
    expect(t.progress()).to.deep.equal({ layers: 2, layersDone: 1, bytes: 1048576, totalBytes: 4194304 });
    expect(formatTransfer(t.progress())).to.equal('1/2 layers, 1.0 of 4.0 MB');
    for (const l of lines([
      { status: 'Download complete', progressDetail: {}, id: 'aaa' },
      { status: 'Extracting', progressDetail: { current: 32768, total: 4194304 }, id: 'aaa' },
      { status: 'Pull complete', progressDetail: {}, id: 'aaa' },
      { status: `Digest: sha256:${'c'.repeat(64)}` },
      { status: 'Status: Downloaded newer image for 127.0.0.1:5000/kur/node:v1' },
    ]))
      t.feed(l);
    expect(t.progress()).to.deep.equal({ layers: 2, layersDone: 2, bytes: 4194304, totalBytes: 4194304 });
    expect(t.digest).to.equal(`sha256:${'c'.repeat(64)}`);
    expect(t.error).to.equal(undefined);
  });

  it('reads a push and its digest line, and an error reported inside the stream', () => {
    const t = new TransferTracker();
    for (const l of lines([
      { status: 'The push refers to repository [127.0.0.1:5000/kur/node]' },
      { status: 'Preparing', progressDetail: {}, id: 'aaa' },
      { status: 'Pushing', progressDetail: { current: 512, total: 1024 }, id: 'aaa' },
      { status: 'Layer already exists', progressDetail: {}, id: 'bbb' },
      { status: 'Pushed', progressDetail: {}, id: 'aaa' },
      { status: `v1: digest: sha256:${'d'.repeat(64)} size: 1234` },
      { progressDetail: {}, aux: { Tag: 'v1', Digest: `sha256:${'d'.repeat(64)}`, Size: 1234 } },
    ]))
      t.feed(l);
    expect(t.progress()).to.deep.equal({ layers: 2, layersDone: 2, bytes: 1024, totalBytes: 1024 });
    expect(t.digest).to.equal(`sha256:${'d'.repeat(64)}`);
    t.feed('not json');
    t.feed(JSON.stringify({ errorDetail: { message: 'manifest unknown' }, error: 'manifest unknown' }));
    expect(t.error).to.equal('manifest unknown');
  });

  it("reads Podman's own API: a line per blob copied, done when the manifest is written", () => {
    const t = new TransferTracker();
    for (const l of lines([
      { stream: 'Trying to pull 127.0.0.1:5000/kur/node:v1...\n' },
      { stream: 'Getting image source signatures\n' },
      { stream: `Copying blob sha256:${'a'.repeat(64)}\n` },
      { stream: `Copying blob sha256:${'b'.repeat(64)}\n` },
    ]))
      t.feed(l);
    expect(t.progress()).to.deep.equal({ layers: 2, layersDone: 0, bytes: 0, totalBytes: 0 });
    for (const l of lines([
      { stream: `Copying config sha256:${'c'.repeat(64)}\n` },
      { stream: 'Writing manifest to image destination\n' },
      { manifestdigest: `sha256:${'d'.repeat(64)}` },
    ]))
      t.feed(l);
    expect(t.progress()).to.deep.equal({ layers: 2, layersDone: 2, bytes: 0, totalBytes: 0 });
    expect(t.digest).to.equal(`sha256:${'d'.repeat(64)}`);
  });

  it('shows layers only until the engine reports sizes', () => {
    expect(formatTransfer({ layers: 3, layersDone: 0, bytes: 0, totalBytes: 0 })).to.equal('0/3 layers');
  });
});

describe('isLoopbackRegistry: where Podman is told to speak plain HTTP, as Docker does', () => {
  it('is true for localhost and 127.0.0.0/8 with or without a port, false elsewhere', () => {
    expect(isLoopbackRegistry('127.0.0.1:5000/kur/node:v1')).to.equal(true);
    expect(isLoopbackRegistry('localhost/app@sha256:abc')).to.equal(true);
    expect(isLoopbackRegistry('127.1.2.3/app:v1')).to.equal(true);
    expect(isLoopbackRegistry('registry.example.com:5000/app:v1')).to.equal(false);
    expect(isLoopbackRegistry('128.0.0.1/app:v1')).to.equal(false);
    expect(isLoopbackRegistry('app:v1')).to.equal(false);
  });
});
