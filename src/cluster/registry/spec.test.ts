import { expect } from 'chai';
import { labels } from '../../engine/labels.js';
import type { ContainerSummary } from '../../engine/types.js';
import { clustersUsing, registryContainerSpec, registryFromContainer, registryLabels } from './spec.js';

function summary(values: Record<string, string>, state = 'running'): ContainerSummary {
  return {
    id: 'x',
    name: 'x',
    image: 'kur.local/registry:v3.1.2',
    state,
    status: '',
    labels: values,
    created: 0,
  };
}

describe('local registry spec', () => {
  it('publishes on 127.0.0.1 with an explicit port, restarts with the engine, keeps images in a named volume', () => {
    const spec = registryContainerSpec('reg', 'kur.local/registry:v3.1.2', 5001);
    expect(spec.ports).to.deep.equal([
      { containerPort: 5000, protocol: 'tcp', hostIp: '127.0.0.1', hostPort: 5001 },
    ]);
    expect(spec.restartPolicy).to.deep.equal({ name: 'unless-stopped' });
    expect(spec.network).to.deep.equal({ name: 'kur', aliases: ['reg'] });
    expect(spec.mounts).to.deep.equal([{ type: 'volume', source: 'reg-data', target: '/var/lib/registry' }]);
    expect(spec.capDrop).to.deep.equal(['ALL']);
    expect(spec.labels).to.deep.equal(registryLabels('reg', 5001));
  });

  it('reads a registry back from its labels, and nothing else', () => {
    expect(registryFromContainer(summary(registryLabels('reg', 5001)))).to.deep.equal({
      name: 'reg',
      state: 'running',
      hostPort: 5001,
      address: 'localhost:5001',
      endpoint: 'http://reg:5000',
      volume: 'reg-data',
      image: 'kur.local/registry:v3.1.2',
    });
    expect(registryFromContainer(summary({ [labels.cluster]: 'dev', [labels.role]: 'worker' }))).to.equal(
      undefined,
    );
  });

  it('names the clusters whose nodes pull through a registry, once each', () => {
    const node = (cluster: string, registries: string) =>
      summary({ [labels.cluster]: cluster, [labels.registries]: registries });
    expect(
      clustersUsing('reg', [node('b', 'reg'), node('a', 'other,reg'), node('a', 'reg'), node('c', 'other')]),
    ).to.deep.equal(['a', 'b']);
  });
});
