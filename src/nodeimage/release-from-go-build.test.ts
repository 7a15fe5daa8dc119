import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { cacheRoot, sha256File } from '../util/cache.js';
import { silentLogger } from '../util/logger.js';
import { loadComponents, type Component } from './components.js';
import { fetchReleaseComponent } from './release-source.js';
import { publishRelease, startReleaseServer } from './testdata/release-server.js';

/**
 * The release path against "the same layout made from path 1": the Go-built binaries in kur's
 * cache (`<cache>/bin/<component>-<version>-<key>/`, written by `kur build node-image`) are packed
 * into archives at the official URLs' paths with their checksum files, served by a local HTTP
 * server, and fetched back through the release code. Needs a node image build first; set
 * KUR_TEST_REQUIRE_GO_BUILD=1 (after `make node-image`) to make a missing cache a failure.
 */
const run = promisify(execFile);
const manifest = loadComponents();
const released = manifest.components.filter((c) => c.release !== null);

/** The newest Go build of `component` in the cache that holds every release binary name. */
async function goBuild(binDir: string, component: Component): Promise<Map<string, string> | undefined> {
  const names = Object.values(component.release!.files);
  let best: { dir: string; mtime: number } | undefined;
  let entries: string[];
  try {
    entries = await fs.readdir(binDir);
  } catch {
    return undefined;
  }
  for (const entry of entries) {
    if (!entry.startsWith(`${component.name}-${component.version}-`) || entry.includes('.partial-')) continue;
    const dir = join(binDir, entry);
    const complete = await Promise.all(
      names.map((n) =>
        fs.access(join(dir, n)).then(
          () => true,
          () => false,
        ),
      ),
    );
    if (!complete.every(Boolean)) continue;
    const { mtimeMs } = await fs.stat(dir);
    if (best === undefined || mtimeMs > best.mtime) best = { dir, mtime: mtimeMs };
  }
  if (best === undefined) return undefined;
  return new Map(names.map((n) => [n, join(best.dir, n)]));
}

describe('release source, fed from the Go build (path 1)', function () {
  this.timeout(600_000);
  const builds = new Map<string, Map<string, string>>();
  let dir: string;

  before(async function () {
    const binDir = join(cacheRoot(process.env), 'bin');
    const missing: string[] = [];
    for (const component of released) {
      const found = await goBuild(binDir, component);
      if (found === undefined) missing.push(component.name);
      else builds.set(component.name, found);
    }
    if (missing.length > 0) {
      const reason = `no Go-built ${missing.join(', ')} in ${binDir} (run \`make node-image\` first)`;
      if (process.env.KUR_TEST_REQUIRE_GO_BUILD === '1') throw new Error(reason);
      console.log(`      skipped: ${reason}`);
      this.skip();
    }
    dir = await fs.mkdtemp(join(tmpdir(), 'kur-release-go-'));
  });
  after(async () => {
    if (dir !== undefined) await fs.rm(dir, { recursive: true, force: true });
  });

  it('serves every release component in the official layout and fetches back the same bytes', async () => {
    const root = join(dir, 'www');
    const server = await startReleaseServer(root);
    const options = { cacheDir: join(dir, 'cache'), logger: silentLogger, mirror: server.url };
    try {
      const components: Component[] = [];
      for (const component of released) {
        const published = await publishRelease(root, component, builds.get(component.name)!);
        // Flannel publishes no checksum: a release is only taken with a pinned one.
        const noSum = component.release!.sha256Url === null || component.release!.sha256Url === undefined;
        components.push(
          noSum ? { ...component, release: { ...component.release!, sha256: published.sha256 } } : component,
        );
      }
      for (const component of components) {
        const fetched = await fetchReleaseComponent(component, options);
        expect(fetched.cached, component.name).to.equal(false);
        for (const [binary, file] of fetched.binaries) {
          expect(await sha256File(file), binary).to.equal(
            await sha256File(builds.get(component.name)!.get(binary)!),
          );
        }
        const [command, ...args] = component.versionCommand ?? [];
        if (command !== undefined && fetched.binaries.has(command)) {
          const result = await run(fetched.binaries.get(command)!, args, {
            env: { ...process.env, ...component.versionEnv },
          });
          expect(`${result.stdout}${result.stderr}`, command).to.contain(component.version.replace(/^v/, ''));
        }
      }
      const asked = server.requests.length;
      for (const component of components) {
        expect((await fetchReleaseComponent(component, options)).cached, component.name).to.equal(true);
      }
      expect(server.requests).to.have.length(asked);
    } finally {
      await server.close();
    }
  });
});
