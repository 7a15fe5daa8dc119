import { expect } from 'chai';
import { packEntries, readEntries, streamToBuffer } from './archive.js';

describe('archive', () => {
  it('round-trips files, directories and symlinks with modes and owners', async () => {
    const entries = await readEntries(
      packEntries([
        { type: 'directory', path: '/etc/kur', mode: 0o700, uid: 1000, gid: 1000 },
        { type: 'file', path: '/etc/kur/a.yaml', content: 'a: 1\n', mode: 0o600, uid: 1000, gid: 100 },
        { type: 'symlink', path: 'usr/bin/kubectl', target: 'kube' },
      ]),
    );
    expect(entries.map((e) => [e.path, e.type, e.mode, e.uid, e.gid])).to.deep.equal([
      ['etc/kur', 'directory', 0o700, 1000, 1000],
      ['etc/kur/a.yaml', 'file', 0o600, 1000, 100],
      ['usr/bin/kubectl', 'symlink', 0o777, 0, 0],
    ]);
    expect(entries[1]!.content.toString()).to.equal('a: 1\n');
    expect(entries[2]!.linkname).to.equal('kube');
  });

  it('gives identical bytes for identical entries', async () => {
    const make = () => packEntries([{ type: 'file', path: 'x', content: Buffer.from('same') }]);
    const [a, b] = await Promise.all([streamToBuffer(make()), streamToBuffer(make())]);
    expect(a.equals(b)).to.equal(true);
    expect(a.length % 512).to.equal(0);
  });

  it('refuses archives over the size limit', async () => {
    const big = packEntries([{ type: 'file', path: 'big', content: Buffer.alloc(4096) }]);
    let failure: unknown;
    try {
      await readEntries(big, 1024);
    } catch (error) {
      failure = error;
    }
    expect(String(failure)).to.match(/larger than 1024 bytes/);
  });
});
