import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import {
  EngineCache,
  bootIdPath,
  defaultMaxAgeMs,
  engineCacheKey,
  realEngineCacheFs,
  type EngineCacheFs,
  type EngineKeyInput,
} from './engine-cache.js';

/** An in-memory host: files, stats, and a counter of writes. */
function fakeFs(
  files: Record<string, string> = {},
  stats: Record<string, { ino: number; ctimeMs: number; mtimeMs: number }> = {},
) {
  const writes: string[] = [];
  const fs: EngineCacheFs = {
    readFile: (path) => Promise.resolve(files[path]),
    stat: (path) => Promise.resolve(stats[path]),
    writeFileAtomic: (path, data) => {
      writes.push(path);
      files[path] = data;
      return Promise.resolve();
    },
    remove: (path) => {
      delete files[path];
      return Promise.resolve();
    },
  };
  return { fs, files, stats, writes };
}

const version = { Version: '20.10.24', ApiVersion: '1.41', KernelVersion: '6.18.44', Arch: 'amd64' };

function input(
  overrides: Partial<EngineKeyInput> = {},
  versionPayload: Record<string, unknown> = version,
): EngineKeyInput {
  return {
    kurVersion: '0.1.0',
    kurUid: 0,
    endpoint: {
      address: 'unix:///var/run/docker.sock',
      provider: 'docker',
      versionPayload,
      connection: { kind: 'unix', socketPath: '/var/run/docker.sock' },
    },
    ...overrides,
  };
}

function host() {
  return fakeFs(
    { [bootIdPath]: 'boot-1\n', '/var/run/docker.pid': '123\n' },
    {
      '/var/run/docker.sock': { ino: 10, ctimeMs: 1000, mtimeMs: 1000 },
      '/var/run/docker.pid': { ino: 11, ctimeMs: 1000, mtimeMs: 1000 },
    },
  );
}

describe('engine cache', () => {
  describe('key', () => {
    it('is the same for the same engine instance, whatever the order of the version payload', async () => {
      const h = host();
      const reordered = Object.fromEntries(Object.entries(version).reverse());
      expect(await engineCacheKey(input(), h.fs)).to.equal(await engineCacheKey(input({}, reordered), h.fs));
    });

    it('changes with kur, the uid, the engine version, the kernel and the address', async () => {
      const h = host();
      const base = await engineCacheKey(input(), h.fs);
      const variants = [
        input({ kurVersion: '0.2.0' }),
        input({ kurUid: 1000 }),
        input({}, { ...version, Version: '24.0.0' }),
        input({}, { ...version, KernelVersion: '6.19.0' }),
        input({
          endpoint: { ...input().endpoint, address: 'unix:///run/user/1000/docker.sock' },
        }),
      ];
      for (const variant of variants) expect(await engineCacheKey(variant, h.fs)).to.not.equal(base);
    });

    it('changes when the engine restarts (new socket, new pid file) or the host reboots', async () => {
      const h = host();
      const base = await engineCacheKey(input(), h.fs);
      h.stats['/var/run/docker.sock'] = { ino: 12, ctimeMs: 2000, mtimeMs: 2000 };
      const newSocket = await engineCacheKey(input(), h.fs);
      expect(newSocket).to.not.equal(base);

      // systemd socket activation keeps the socket; dockerd still rewrites its pid file.
      h.files['/var/run/docker.pid'] = '456\n';
      h.stats['/var/run/docker.pid'] = { ino: 13, ctimeMs: 3000, mtimeMs: 3000 };
      const newPid = await engineCacheKey(input(), h.fs);
      expect(newPid).to.not.equal(newSocket);

      h.files[bootIdPath] = 'boot-2\n';
      expect(await engineCacheKey(input(), h.fs)).to.not.equal(newPid);
    });

    it('reads no files for a tcp engine', async () => {
      const h = fakeFs();
      const read: string[] = [];
      const fs: EngineCacheFs = {
        ...h.fs,
        readFile: (p) => (read.push(p), Promise.resolve(undefined)),
        stat: (p) => (read.push(p), Promise.resolve(undefined)),
      };
      const tcp = input({
        endpoint: {
          address: 'tcp://build:2376',
          provider: 'docker',
          versionPayload: version,
          connection: { kind: 'tcp', host: 'build', port: 2376, tls: undefined },
        },
      });
      expect(await engineCacheKey(tcp, fs)).to.match(/^[0-9a-f]{64}$/);
      expect(read).to.deep.equal([]);
    });
  });

  describe('entries', () => {
    const address = 'unix:///var/run/docker.sock';

    it('returns what was stored under the same key while it is fresh', async () => {
      const h = fakeFs();
      let now = 1_000_000;
      const cache = new EngineCache<{ privilege: string }>({ dir: '/c', fs: h.fs, now: () => now });
      expect(await cache.get(address, 'k1')).to.equal(undefined);
      await cache.set(address, 'k1', { privilege: 'privileged' });
      now += 5000;
      expect(await cache.get(address, 'k1')).to.deep.equal({
        value: { privilege: 'privileged' },
        ageMs: 5000,
      });
    });

    it('misses on another key, and a new key replaces the entry rather than adding one', async () => {
      const h = fakeFs();
      const cache = new EngineCache<number>({ dir: '/c', fs: h.fs, now: () => 1 });
      await cache.set(address, 'k1', 1);
      expect(await cache.get(address, 'k2')).to.equal(undefined);
      await cache.set(address, 'k2', 2);
      expect(new Set(h.writes).size).to.equal(1);
      expect(await cache.get(address, 'k1')).to.equal(undefined);
      expect((await cache.get(address, 'k2'))?.value).to.equal(2);
    });

    it('keeps one entry per endpoint', async () => {
      const h = fakeFs();
      const cache = new EngineCache<number>({ dir: '/c', fs: h.fs, now: () => 1 });
      await cache.set(address, 'k', 1);
      await cache.set('unix:///run/user/1001/podman/podman.sock', 'k', 2);
      expect((await cache.get(address, 'k'))?.value).to.equal(1);
      expect(cache.pathFor(address)).to.not.equal(cache.pathFor('unix:///run/user/1001/podman/podman.sock'));
    });

    it('expires entries after maxAgeMs, and when the clock went back', async () => {
      const h = fakeFs();
      let now = 10 * defaultMaxAgeMs;
      const cache = new EngineCache<number>({ dir: '/c', fs: h.fs, now: () => now });
      await cache.set(address, 'k', 1);
      now += defaultMaxAgeMs;
      expect(await cache.get(address, 'k')).to.not.equal(undefined);
      now += 1;
      expect(await cache.get(address, 'k')).to.equal(undefined);
      now = 1;
      expect(await cache.get(address, 'k')).to.equal(undefined);
    });

    it('treats torn, foreign or unreadable files as misses', async () => {
      const h = fakeFs();
      const cache = new EngineCache<number>({ dir: '/c', fs: h.fs, now: () => 1 });
      const path = cache.pathFor(address);
      for (const text of [
        '{"format":1,"key":"k","sav',
        '[]',
        '{"format":99,"key":"k","savedAt":1,"value":1}',
        'null',
      ]) {
        h.files[path] = text;
        expect(await cache.get(address, 'k')).to.equal(undefined);
      }
      const failing = new EngineCache<number>({
        dir: '/c',
        fs: { ...h.fs, readFile: () => Promise.reject(new Error('EIO')) },
      });
      expect(await failing.get(address, 'k')).to.equal(undefined);
    });

    it('forgets an entry', async () => {
      const h = fakeFs();
      const cache = new EngineCache<number>({ dir: '/c', fs: h.fs, now: () => 1 });
      await cache.set(address, 'k', 1);
      await cache.forget(address);
      expect(await cache.get(address, 'k')).to.equal(undefined);
    });

    it('writes atomically on a real filesystem, with many writers at once', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'kur-engine-cache-'));
      try {
        const cache = new EngineCache<{ n: number; pad: string }>({
          dir: join(dir, 'engines'),
          fs: realEngineCacheFs,
        });
        const pad = 'x'.repeat(64 * 1024);
        const writers = Array.from({ length: 20 }, (_, n) => cache.set(address, 'k', { n, pad }));
        // Readers racing the writers see a whole entry or none, never a torn one.
        const readers = Array.from({ length: 20 }, () => cache.get(address, 'k'));
        const [, seen] = await Promise.all([Promise.all(writers), Promise.all(readers)]);
        for (const hit of seen) if (hit !== undefined) expect(hit.value.pad).to.equal(pad);
        expect((await cache.get(address, 'k'))?.value.pad).to.equal(pad);
        expect(readdirSync(join(dir, 'engines'))).to.have.length(1); // no temp files left
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});
