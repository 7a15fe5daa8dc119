import { expect } from 'chai';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cachedEntry, cacheKey, cacheRoot, sha256File } from './cache.js';

describe('cache', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kur-cache-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('lives under KUR_CACHE_DIR, XDG_CACHE_HOME or ~/.cache', () => {
    expect(cacheRoot({ KUR_CACHE_DIR: '/c' }, '/h')).to.equal('/c');
    expect(cacheRoot({ XDG_CACHE_HOME: '/x' }, '/h')).to.equal('/x/kur');
    expect(cacheRoot({}, '/h')).to.equal('/h/.cache/kur');
  });

  it('keys depend on every part and their boundaries', () => {
    expect(cacheKey('a', 'bc')).to.not.equal(cacheKey('ab', 'c'));
    expect(cacheKey('a', 'b')).to.equal(cacheKey('a', 'b'));
  });

  it('produces once, then hits', async () => {
    const path = join(dir, 'area', 'entry');
    let runs = 0;
    const produce = async (temp: string) => {
      runs += 1;
      await writeFile(temp, 'content');
    };
    expect((await cachedEntry(path, produce)).hit).to.equal(false);
    expect((await cachedEntry(path, produce)).hit).to.equal(true);
    expect(runs).to.equal(1);
    expect(await readFile(path, 'utf8')).to.equal('content');
    expect(await sha256File(path)).to.equal(
      'ed7002b439e9ac845f22357d822bac1444730fbdb6016d3ec9432297b9ec9f73',
    );
  });

  it('uses the directory another producer renamed into place first', async () => {
    const path = join(dir, 'area', 'tool');
    const made = await cachedEntry(path, async (temp) => {
      // The other process wins the race while this one still produces.
      await mkdir(path, { recursive: true });
      await writeFile(join(path, 'bin'), 'theirs');
      await mkdir(temp);
      await writeFile(join(temp, 'bin'), 'mine');
    });
    expect(made.hit).to.equal(true);
    expect(await readFile(join(path, 'bin'), 'utf8')).to.equal('theirs');
    expect(await readdir(join(dir, 'area'))).to.deep.equal(['tool']);
  });

  it('leaves no partial entry when the producer fails', async () => {
    const path = join(dir, 'area', 'entry');
    let failure: unknown;
    try {
      await cachedEntry(path, async (temp) => {
        await writeFile(temp, 'half');
        throw new Error('download broke');
      });
    } catch (error) {
      failure = error;
    }
    expect(String(failure)).to.contain('download broke');
    expect(await readdir(join(dir, 'area'))).to.deep.equal([]);
  });
});
