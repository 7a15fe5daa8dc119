import { expect } from 'chai';
import { mkdtemp, readdir, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isKurError, KurError } from '../util/errors.js';
import { silentLogger } from '../util/logger.js';
import {
  buildBaseRootfs,
  defaultBaseDir,
  parsePackageList,
  sourcesFromDeb822,
  type BaseRootfsOptions,
  type ExecFn,
} from './base-rootfs.js';

const HOST_SOURCES = `Types: deb
# http://snapshot.debian.org/archive/debian/20250520T000000Z
URIs: http://mirror.example/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://mirror.example/debian-security
Suites: bookworm-security
Components: main contrib
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb-src
URIs: http://mirror.example/debian
Suites: bookworm
Components: main

Enabled: no
Types: deb
URIs: http://disabled.example/debian
Suites: bookworm
Components: main
`;

interface Call {
  file: string;
  args: readonly string[];
  env: Record<string, string>;
}

/** A stand-in for mmdebstrap: records calls and writes `content` to the target path. */
function fakeMmdebstrap(behaviour: { exitCode?: number; content?: string; missing?: boolean } = {}): {
  exec: ExecFn;
  calls: Call[];
} {
  const calls: Call[] = [];
  const exec: ExecFn = async (file, args, options) => {
    calls.push({ file, args, env: options.env });
    if (behaviour.missing === true)
      throw Object.assign(new Error('spawn mmdebstrap ENOENT'), { code: 'ENOENT' });
    if (args[0] === '--version') return { exitCode: 0, stdout: '', stderr: 'mmdebstrap 1.3.5' };
    const target = args.find((a) => a.includes('.partial-'));
    if (target === undefined) throw new Error('no target path in the arguments');
    await writeFile(target, behaviour.content ?? 'rootfs-tar');
    const exitCode = behaviour.exitCode ?? 0;
    return { exitCode, stdout: '', stderr: exitCode === 0 ? 'I: success' : 'E: apt-get update failed' };
  };
  return { exec, calls };
}

describe('base rootfs', () => {
  let dir: string;
  let base: (extra?: Partial<BaseRootfsOptions>) => BaseRootfsOptions;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kur-base-'));
    base = (extra = {}) => ({
      logger: silentLogger,
      env: { XDG_CACHE_HOME: join(dir, 'cache') },
      home: join(dir, 'home'),
      uid: 0,
      arch: 'x64',
      readHostSources: () => Promise.resolve(HOST_SOURCES),
      ...extra,
    });
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  describe('package list', () => {
    it('reads names, skipping comments and blank lines', () => {
      expect(parsePackageList('# header\nsystemd\n\n  dbus # bus\nlibseccomp2\n')).to.deep.equal([
        'systemd',
        'dbus',
        'libseccomp2',
      ]);
    });

    it('rejects what is not a package name', () => {
      expect(() => parsePackageList('systemd,dbus\n')).to.throw(KurError, /invalid package name/);
    });

    it('the shipped list has what a node needs at runtime', async () => {
      const packages = parsePackageList(await readFile(join(defaultBaseDir(), 'packages.txt'), 'utf8'));
      for (const p of [
        'systemd',
        'systemd-sysv',
        'iptables',
        'iproute2',
        'mount',
        'fuse-overlayfs',
        'kmod',
      ]) {
        expect(packages).to.include(p);
      }
    });
  });

  describe('apt sources', () => {
    it('takes the enabled deb stanzas for the suite, main only', () => {
      expect(sourcesFromDeb822(HOST_SOURCES, 'bookworm')).to.deep.equal([
        'deb http://mirror.example/debian bookworm main',
        'deb http://mirror.example/debian bookworm-updates main',
        'deb http://mirror.example/debian-security bookworm-security main',
      ]);
    });

    it('has nothing for another suite', () => {
      expect(sourcesFromDeb822(HOST_SOURCES, 'trixie')).to.equal(undefined);
    });
  });

  it('fails early with the exact fix when mmdebstrap is missing', async () => {
    const { exec } = fakeMmdebstrap({ missing: true });
    try {
      await buildBaseRootfs(base({ exec }));
      expect.fail('should have thrown');
    } catch (error) {
      expect(isKurError(error, 'build')).to.equal(true);
      expect((error as KurError).message).to.match(/mmdebstrap is not installed/);
      expect((error as KurError).hint).to.include('apt-get install mmdebstrap');
    }
  });

  it('runs mmdebstrap reproducibly with the list, the hook and the host mirror, then caches', async () => {
    const { exec, calls } = fakeMmdebstrap();
    const first = await buildBaseRootfs(base({ exec }));
    expect(first.cached).to.equal(false);
    expect(first.path).to.equal(join(dir, 'cache', 'kur', 'base', `${first.key}.tar`));
    expect(await readFile(first.path, 'utf8')).to.equal('rootfs-tar');
    expect(first.sizeBytes).to.equal('rootfs-tar'.length);
    expect(first.mmdebstrapVersion).to.equal('1.3.5');

    const build = calls.filter((c) => c.args[0] !== '--version');
    expect(build).to.have.length(1);
    const { args, env } = build[0]!;
    expect(env.SOURCE_DATE_EPOCH).to.match(/^\d+$/);
    expect(args).to.include.members([
      '--mode=root',
      '--variant=essential',
      '--format=tar',
      '--architectures=amd64',
    ]);
    const include = args
      .find((a) => a.startsWith('--include='))!
      .slice('--include='.length)
      .split(',');
    expect(include).to.deep.equal(
      parsePackageList(await readFile(join(defaultBaseDir(), 'packages.txt'), 'utf8')),
    );
    const hook = args.find((a) => a.startsWith('--customize-hook='))!.slice('--customize-hook='.length);
    expect(hook).to.equal(await readFile(join(defaultBaseDir(), 'customize.sh'), 'utf8'));
    expect(args.slice(-3)).to.deep.equal(first.sources);
    expect(first.sources[0]).to.equal('deb http://mirror.example/debian bookworm main');

    const second = await buildBaseRootfs(base({ exec }));
    expect(second.cached).to.equal(true);
    expect(second.key).to.equal(first.key);
    expect(second.sha256).to.equal(first.sha256);
    expect(calls.filter((c) => c.args[0] !== '--version')).to.have.length(1);
  });

  it('uses unshare mode for a normal user, with the same cache key as root', async () => {
    const root = fakeMmdebstrap();
    const user = fakeMmdebstrap();
    const a = await buildBaseRootfs(base({ exec: root.exec, uid: 0 }));
    await rm(a.path);
    const b = await buildBaseRootfs(base({ exec: user.exec, uid: 1000 }));
    expect(user.calls.at(-1)!.args).to.include('--mode=unshare');
    expect(b.key).to.equal(a.key);
    try {
      await buildBaseRootfs(base({ exec: user.exec, uid: 1000, mode: 'root' }));
      expect.fail('should have thrown');
    } catch (error) {
      expect(isKurError(error, 'build')).to.equal(true);
    }
  });

  it('keys the cache on the package list, the mirror and the epoch', async () => {
    const { exec } = fakeMmdebstrap();
    const baseDir = join(dir, 'images-base');
    await mkdir(baseDir);
    await writeFile(join(baseDir, 'customize.sh'), 'true\n');
    await writeFile(join(baseDir, 'packages.txt'), 'systemd\n');
    const one = await buildBaseRootfs(base({ exec, baseDir }));
    await writeFile(join(baseDir, 'packages.txt'), 'systemd\ndbus\n');
    const two = await buildBaseRootfs(base({ exec, baseDir }));
    const three = await buildBaseRootfs(
      base({ exec, baseDir, sources: ['deb http://other.example/debian bookworm main'] }),
    );
    const four = await buildBaseRootfs(base({ exec, baseDir, sourceDateEpoch: 1 }));
    expect(new Set([one.key, two.key, three.key, four.key]).size).to.equal(4);
    expect(two.cached || three.cached || four.cached).to.equal(false);
  });

  it('falls back to deb.debian.org when the host has no Debian sources', async () => {
    const { exec } = fakeMmdebstrap();
    const result = await buildBaseRootfs(base({ exec, readHostSources: () => Promise.resolve(undefined) }));
    expect(result.sources).to.deep.equal([
      'deb http://deb.debian.org/debian bookworm main',
      'deb http://deb.debian.org/debian bookworm-updates main',
      'deb http://deb.debian.org/debian-security bookworm-security main',
    ]);
  });

  it('leaves no cache entry when mmdebstrap fails, and says why', async () => {
    const { exec } = fakeMmdebstrap({ exitCode: 1, content: 'half a tarball' });
    try {
      await buildBaseRootfs(base({ exec }));
      expect.fail('should have thrown');
    } catch (error) {
      expect(isKurError(error, 'build')).to.equal(true);
      expect((error as KurError).detail).to.include('apt-get update failed');
      expect((error as KurError).hint).to.match(/mirror/);
    }
    expect(await readdir(join(dir, 'cache', 'kur', 'base'))).to.deep.equal([]);
  });
});
