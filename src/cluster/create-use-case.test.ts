import { expect } from 'chai';
import { FakeEngine } from '../engine/testing/fake-engine.js';
import { defaultNodeImage } from '../nodeimage/defaults.js';
import type { StepContext } from '../ui/progress.js';
import { silentLogger, type Logger } from '../util/logger.js';
import { ensureImage, type ImageSources } from './create-use-case.js';

const digest = `sha256:${'a'.repeat(64)}`;

function harness(engineOptions: ConstructorParameters<typeof FakeEngine>[0], env: NodeJS.ProcessEnv = {}) {
  const engine = new FakeEngine(engineOptions);
  const said: string[] = [];
  const status: string[] = [];
  const logger: Logger = {
    ...silentLogger,
    info: (m) => said.push(m),
    warn: (m) => said.push(`WARNING: ${m}`),
  };
  const step: StepContext = {
    status: (text) => status.push(text),
    children: () => Promise.resolve(),
    signal: new AbortController().signal,
  };
  const built: string[] = [];
  const sources = (published: Record<string, string>): ImageSources => ({
    published,
    build: (o) => {
      built.push(o.image ?? '?');
      return Promise.resolve();
    },
  });
  return { engine, options: { engine, logger, env }, step, said, status, built, sources };
}

const tag = () => defaultNodeImage().slice(defaultNodeImage().lastIndexOf(':') + 1);

describe('ensureImage: where a missing node image comes from', () => {
  it('uses an image the engine has, without asking a registry or building', async () => {
    const h = harness(
      { images: { [defaultNodeImage()]: {} } },
      { KUR_NODE_IMAGE_REGISTRY: '127.0.0.1:5000/kur' },
    );
    await ensureImage(h.options, defaultNodeImage(), h.step, h.sources({ [tag()]: digest }));
    expect(h.engine.pulled).to.deep.equal([]);
    expect(h.built).to.deep.equal([]);
  });

  it('pulls a registry reference the engine lacks, with progress in the step status', async () => {
    const ref = '127.0.0.1:5000/kur/node:v1';
    const h = harness({ registry: { [ref]: {} } });
    await ensureImage(h.options, ref, h.step, h.sources({}));
    expect(h.engine.pulled).to.deep.equal([ref]);
    expect(h.status.at(-1)).to.equal(`pulling ${ref}: 1/1 layers, 0.0 of 0.0 MB`);
    expect(h.built).to.deep.equal([]);
  });

  it('fails on a registry reference it cannot pull, instead of building something else', async () => {
    const h = harness({});
    const error = await ensureImage(h.options, 'localhost:5000/nope:v1', h.step, h.sources({})).catch(
      (e: unknown) => e,
    );
    expect(error).to.have.property('kind', 'engine');
    expect(h.built).to.deep.equal([]);
  });

  it('refuses a local name the engine lacks that is not the default image', async () => {
    const h = harness({});
    const error = await ensureImage(h.options, 'kur.local/node:other', h.step, h.sources({})).catch(
      (e: unknown) => e,
    );
    expect(error).to.have.property('kind', 'preflight');
    expect(h.engine.pulled).to.deep.equal([]);
  });

  it('pulls the default image by its published digest from KUR_NODE_IMAGE_REGISTRY, and names it as kur does', async () => {
    const published = `127.0.0.1:5000/kur/node@${digest}`;
    const h = harness({ registry: { [published]: {} } }, { KUR_NODE_IMAGE_REGISTRY: '127.0.0.1:5000/kur/' });
    await ensureImage(h.options, defaultNodeImage(), h.step, h.sources({ [tag()]: digest }));
    expect(h.engine.pulled).to.deep.equal([published]);
    expect(h.built).to.deep.equal([]);
    await h.engine.images.inspect(published);
  });

  it('builds when the registry fails, and says why', async () => {
    const h = harness({}, { KUR_NODE_IMAGE_REGISTRY: '127.0.0.1:5000/kur' });
    await ensureImage(h.options, defaultNodeImage(), h.step, h.sources({ [tag()]: digest }));
    expect(h.built).to.deep.equal([defaultNodeImage()]);
    expect(h.said.join('\n')).to.match(
      /WARNING: Could not pull 127\.0\.0\.1:5000\/kur\/node@sha256:a+ \(.*\): building/,
    );
  });

  it('builds without asking a registry when none is set or the recipe was not published', async () => {
    const none = harness({});
    await ensureImage(none.options, defaultNodeImage(), none.step, none.sources({ [tag()]: digest }));
    expect(none.said.join('\n')).to.include('KUR_NODE_IMAGE_REGISTRY is not set');
    const unpublished = harness({}, { KUR_NODE_IMAGE_REGISTRY: '127.0.0.1:5000/kur' });
    await ensureImage(unpublished.options, defaultNodeImage(), unpublished.step, unpublished.sources({}));
    expect(unpublished.engine.pulled).to.deep.equal([]);
    expect(unpublished.said.join('\n')).to.include('this recipe was not published');
    expect([...none.built, ...unpublished.built]).to.deep.equal([defaultNodeImage(), defaultNodeImage()]);
  });
});
