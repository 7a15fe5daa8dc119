import { expect } from 'chai';
import { FakeEngine } from '../engine/testing/fake-engine.js';
import { KurError } from '../util/errors.js';
import { silentLogger } from '../util/logger.js';
import { ensureClusterNetwork, removeClusterNetworkIfUnused } from './network.js';

describe('the kur network', () => {
  it('skips subnets other networks hold and subnets the engine refuses', async () => {
    const engine = new FakeEngine();
    await engine.networks.create({ name: 'other', subnet: '172.18.0.0/16' });
    const create = engine.networks.create.bind(engine.networks);
    engine.networks.create = (spec) =>
      spec.subnet === '172.19.0.0/16'
        ? Promise.reject(new KurError('engine', 'subnet 172.19.0.0/16 is already used on the host'))
        : create(spec);
    const network = await ensureClusterNetwork(engine, { mtu: undefined, logger: silentLogger });
    expect(network).to.deep.equal({
      created: true,
      plan: { subnet: '172.20.0.0/16', gateway: '172.20.0.1', ipRange: '172.20.128.0/17' },
    });
    // A second call uses the network as it is.
    expect((await ensureClusterNetwork(engine, { mtu: undefined, logger: silentLogger })).created).to.equal(
      false,
    );
  });

  it('refuses a kur network another tool made without a subnet kur chose', async () => {
    const engine = new FakeEngine();
    await engine.networks.create({ name: 'kur' });
    let error: unknown;
    await ensureClusterNetwork(engine, { mtu: undefined, logger: silentLogger }).catch(
      (e: unknown) => (error = e),
    );
    expect((error as KurError).kind).to.equal('conflict');
  });

  it('stays while any cluster container exists, running or not', async () => {
    const engine = new FakeEngine({ images: { img: {} } });
    await ensureClusterNetwork(engine, { mtu: undefined, logger: silentLogger });
    const id = await engine.containers.create({
      name: 'a.kur-cluster',
      image: 'img',
      labels: { 'dev.kur.cluster': 'a' },
    });
    expect(await removeClusterNetworkIfUnused(engine, silentLogger)).to.equal(false);
    await engine.containers.remove(id);
    expect(await removeClusterNetworkIfUnused(engine, silentLogger)).to.equal(true);
  });
});
