import { expect } from 'chai';
import { labels } from '../../engine/labels.js';
import { FakeEngine } from '../../engine/testing/fake-engine.js';
import { isKurError } from '../../util/errors.js';
import { silentLogger, type Logger } from '../../util/logger.js';
import { deleteRegistry, findRegistries, startRegistriesOf } from './registries.js';
import { registryContainerSpec } from './spec.js';

const image = 'kur.local/registry:v3.1.2';

async function engineWithRegistry(): Promise<{ engine: FakeEngine; id: string }> {
  const engine = new FakeEngine({ images: { [image]: {}, 'kur.local/node:test': {} } });
  await engine.volumes.create({ name: 'reg-data' });
  const id = await engine.containers.create(registryContainerSpec('reg', image, 5001));
  return { engine, id };
}

async function addNode(engine: FakeEngine, cluster: string, registries: string): Promise<string> {
  return engine.containers.create({
    name: `${cluster}-control-plane`,
    image: 'kur.local/node:test',
    labels: { [labels.cluster]: cluster, [labels.role]: 'control-plane', [labels.registries]: registries },
  });
}

const call = { logger: silentLogger, env: {} };

describe('local registries', () => {
  it('finds the registries a config names with their ports, and names the missing ones', async () => {
    const { engine } = await engineWithRegistry();
    expect(await findRegistries(engine, ['reg'])).to.deep.equal([
      { name: 'reg', hostPort: 5001, containerPort: 5000 },
    ]);
    const error = await findRegistries(engine, ['reg', 'nope']).catch((e: unknown) => e);
    expect(isKurError(error, 'notFound') && error.message).to.equal('no local registry named "nope"');
  });

  it('refuses to delete a registry a cluster pulls through, and with force removes container and volume', async () => {
    const { engine } = await engineWithRegistry();
    await addNode(engine, 'dev', 'other,reg');
    const refused = await deleteRegistry({ engine, ...call, name: 'reg' }).catch((e: unknown) => e);
    expect(isKurError(refused, 'conflict') && refused.message).to.equal(
      'registry "reg" is used by cluster(s) dev',
    );
    expect(engine.volumesByName.has('reg-data')).to.equal(true);

    const deleted = await deleteRegistry({ engine, ...call, name: 'reg', force: true });
    expect(deleted).to.deep.include({ name: 'reg', container: 'reg', volume: 'reg-data', usedBy: ['dev'] });
    expect(engine.volumesByName.has('reg-data')).to.equal(false);
    expect(await engine.containers.list({ labels: { [labels.registry]: 'reg' } })).to.deep.equal([]);
    const missing = await deleteRegistry({ engine, ...call, name: 'reg' }).catch((e: unknown) => e);
    expect(isKurError(missing, 'notFound')).to.equal(true);
  });

  it('starts the stopped registries a cluster uses, and warns instead of failing when one cannot start', async () => {
    const { engine, id } = await engineWithRegistry();
    const node = await addNode(engine, 'dev', 'reg');
    const nodes = await engine.containers.list({ labels: { [labels.cluster]: 'dev' } });
    await startRegistriesOf(engine, nodes, silentLogger);
    expect((await engine.containers.inspect(id)).state.running).to.equal(true);
    expect((await engine.containers.inspect(node)).state.running).to.equal(false);

    await engine.containers.stop(id);
    engine.failOn.set('start', new Error('port taken'));
    const warnings: string[] = [];
    const logger: Logger = { ...silentLogger, warn: (m) => warnings.push(m) };
    await startRegistriesOf(engine, nodes, logger);
    expect(warnings).to.deep.equal(['local registry reg did not start: port taken']);
  });
});
