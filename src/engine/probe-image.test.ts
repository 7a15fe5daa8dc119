import type { Readable } from 'node:stream';
import { expect } from 'chai';
import { probePrivilege } from './privilege.js';
import { loadProbeImage } from './probe-image.js';
import type { HostFs } from './host-fs.js';
import type { ContainerSpec, Engine } from './types.js';
import { KurError } from '../util/errors.js';
import { silentLogger } from '../util/logger.js';

/** A function's result (or throw) as a promise, the way an engine call answers. */
const later = <T>(f: () => T): Promise<T> => new Promise((resolve) => resolve(f()));

const noBusybox: HostFs = {
  readFile: () => Promise.resolve(undefined),
  kind: () => Promise.resolve(undefined),
};

/**
 * An engine's image store as Docker and Podman keep it: tags name an image; removing a tag that
 * is not the image's last only untags; removing the last one fails while a container uses the
 * image, unless forced (then the image goes from under the container's next start).
 */
function fakeEngine() {
  const tags = new Map<string, string>();
  const containers = new Map<string, { image: string; started: boolean }>();
  let nextId = 0;
  const idOf = (ref: string): string => {
    const id = tags.get(ref);
    if (id === undefined) throw new KurError('notFound', `No such image: ${ref}`);
    return id;
  };
  const engine = {
    endpoint: { provider: 'docker' },
    images: {
      load: async (tar: Readable) => {
        let text = '';
        for await (const chunk of tar) text += (chunk as Buffer).toString('latin1');
        const ref = /kur\.local\/probe:[a-z0-9-]+/.exec(text)?.[0];
        if (ref === undefined) throw new Error('no tag in the archive');
        tags.set(ref, 'sha256:probe'); // the same content gives the same image ID
        return [ref];
      },
      remove: (ref: string, options: { force?: boolean } = {}) =>
        later(() => {
          const id = idOf(ref);
          const others = [...tags].filter(([t, i]) => i === id && t !== ref);
          const used = [...containers.values()].some((c) => c.image === id);
          if (others.length === 0 && used && options.force !== true)
            throw new KurError('conflict', `unable to remove ${ref}: image is being used by a container`);
          tags.delete(ref);
        }),
    },
    containers: {
      create: (spec: ContainerSpec) =>
        later(() => {
          const image = idOf(spec.image);
          const id = `c${(nextId += 1)}`;
          containers.set(id, { image, started: false });
          return id;
        }),
      start: (id: string) =>
        later(() => {
          const c = containers.get(id)!;
          if (![...tags.values()].includes(c.image)) throw new KurError('engine', 'No such image');
          c.started = true;
        }),
      inspect: () => later(() => ({ state: { running: false, status: 'exited', exitCode: 0 } })),
      logs: () => later(() => ({ stdout: '', stderr: '' })),
      remove: (id: string) => later(() => containers.delete(id)),
    },
  };
  return { engine: engine as unknown as Engine, tags, containers };
}

describe('probe image', () => {
  it('gives each run its own tag, so one run removing its image leaves the other its own', async () => {
    const { engine, tags } = fakeEngine();
    const options = { logger: silentLogger, fs: noBusybox };
    const [a, b] = await Promise.all([
      loadProbeImage(engine, 'amd64', { ...options, runId: 'aaaa' }),
      loadProbeImage(engine, 'amd64', { ...options, runId: 'bbbb' }),
    ]);
    expect(a.reference).to.not.equal(b.reference);
    expect(a.reference.split(':')[1]!.replace(/-aaaa$/, '')).to.equal(
      b.reference.split(':')[1]!.replace(/-bbbb$/, ''),
    );
    // B has a container from its image when A is done and removes its own.
    const id = await engine.containers.create({ name: 'b', image: b.reference });
    await a.remove();
    await engine.containers.start(id);
    expect([...tags.keys()]).to.deep.equal([b.reference]);
    await engine.containers.remove(id);
    await b.remove();
    expect(tags.size).to.equal(0);
  });

  it('never forces: a tag still in use by a container stays, and a tag already gone is fine', async () => {
    const { engine, tags } = fakeEngine();
    const image = await loadProbeImage(engine, 'amd64', {
      logger: silentLogger,
      fs: noBusybox,
      runId: 'cccc',
    });
    const id = await engine.containers.create({ name: 'c', image: image.reference });
    await image.remove();
    expect(tags.has(image.reference)).to.equal(true);
    await engine.containers.remove(id);
    await image.remove();
    await image.remove();
    expect(tags.size).to.equal(0);
  });

  it('two privilege probes at once both succeed (issue 9: "No such image: kur.local/probe")', async () => {
    const { engine, tags } = fakeEngine();
    const results = await Promise.all(
      Array.from({ length: 4 }, () =>
        probePrivilege(engine, 'amd64', { logger: silentLogger, fs: noBusybox }),
      ),
    );
    expect(results.map((r) => r.kind)).to.deep.equal([
      'privileged',
      'privileged',
      'privileged',
      'privileged',
    ]);
    expect(tags.size).to.equal(0);
  });

  it('a probe whose image vanished before its container was created loads it again', async () => {
    const { engine, tags } = fakeEngine();
    const create = engine.containers.create.bind(engine.containers);
    let first = true;
    engine.containers.create = async (spec) => {
      if (first) {
        first = false;
        tags.clear(); // someone else's cleanup, just now
      }
      return create(spec);
    };
    const result = await probePrivilege(engine, 'amd64', { logger: silentLogger, fs: noBusybox });
    expect(result.kind).to.equal('privileged');
  });
});
