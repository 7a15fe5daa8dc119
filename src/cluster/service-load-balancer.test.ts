import { expect } from 'chai';
import { labels } from '../engine/labels.js';
import { FakeEngine } from '../engine/testing/fake-engine.js';
import { takenHostPorts } from './host-ports.js';
import {
  hostPortsAnnotation,
  loadBalancerContainerName,
  loadBalancerLabels,
  loadBalancerSpec,
  planLoadBalancerChanges,
  preferredHostPort,
  proxiedPorts,
  recordFromLabels,
  servicePatches,
  type ExistingLoadBalancer,
  type KubeService,
  type LoadBalancerRecord,
} from './service-load-balancer.js';

function service(
  name: string,
  ports: { port: number; nodePort?: number; protocol?: string }[],
  extra: Partial<NonNullable<KubeService['spec']>> = {},
  uid = `uid-${name}`,
): KubeService {
  return {
    metadata: { namespace: 'default', name, uid },
    spec: { type: 'LoadBalancer', ports, ...extra },
  };
}

const backends = ['172.18.0.2', '172.18.0.3'];

const web: LoadBalancerRecord = {
  service: { namespace: 'default', name: 'web', uid: 'uid-web' },
  ports: [
    { port: 8080, protocol: 'TCP', nodePort: 30080, hostPort: 8080 },
    { port: 443, protocol: 'TCP', nodePort: 30443, hostPort: 41234 },
  ],
  backends,
};

function existing(record: LoadBalancerRecord, state = 'running'): ExistingLoadBalancer {
  return {
    id: `id-${record.service.name}`,
    name: loadBalancerContainerName('dev', record.service),
    state,
    record,
  };
}

describe('Service load balancers', () => {
  it('proxies TCP ports with a nodePort and says why it leaves the others out', () => {
    const { ports, skipped } = proxiedPorts(
      service('dns', [
        { port: 53, nodePort: 30053, protocol: 'UDP' },
        { port: 53, nodePort: 30054 },
        { port: 9000, protocol: 'SCTP', nodePort: 30090 },
        { port: 80 },
      ]),
    );
    expect(ports).to.deep.equal([{ port: 53, protocol: 'TCP', nodePort: 30054 }]);
    expect(skipped).to.deep.equal([
      'port 53/UDP skipped: only TCP is proxied',
      'port 9000/SCTP skipped: only TCP is proxied',
      'port 80/TCP skipped: it has no nodePort (allocateLoadBalancerNodePorts is false)',
    ]);
  });

  it('records everything in labels and reads it back', () => {
    const values = loadBalancerLabels('dev', web);
    expect(values).to.include({
      [labels.cluster]: 'dev',
      [labels.role]: 'service-load-balancer',
      [labels.node]: 'dev-lb.default.web',
      [labels.service]: 'default/web',
      [labels.serviceUid]: 'uid-web',
      [labels.hostPorts]: '8080/TCP=8080,443/TCP=41234',
      [labels.nodePorts]: '8080/TCP=30080,443/TCP=30443',
      [labels.backends]: '172.18.0.2,172.18.0.3',
    });
    expect(recordFromLabels(values)).to.deep.equal(web);
    expect(recordFromLabels({ [labels.role]: 'worker' })).to.equal(undefined);
  });

  it('runs kur-lb with one route per port, published on 127.0.0.1 with explicit ports, unprivileged', () => {
    const spec = loadBalancerSpec('dev', 'kur.local/node:v1', web);
    expect(spec.name).to.equal('dev-lb.default.web');
    expect(spec.entrypoint).to.deep.equal([
      '/usr/local/bin/kur-lb',
      '--route',
      ':8080=172.18.0.2:30080,172.18.0.3:30080',
      '--route',
      ':41234=172.18.0.2:30443,172.18.0.3:30443',
    ]);
    expect(spec.ports).to.deep.equal([
      { containerPort: 8080, protocol: 'tcp', hostIp: '127.0.0.1', hostPort: 8080 },
      { containerPort: 41234, protocol: 'tcp', hostIp: '127.0.0.1', hostPort: 41234 },
    ]);
    expect(spec.restartPolicy).to.deep.equal({ name: 'unless-stopped' });
    expect(spec.privileged).to.equal(undefined);
    expect(spec.capDrop).to.deep.equal(['ALL']);
    expect(spec.network).to.deep.equal({ name: 'kur' });
  });

  it('creates a load balancer for a new Service and keeps one that matches', () => {
    const changes = planLoadBalancerChanges(
      [
        service('web', [
          { port: 8080, nodePort: 30080 },
          { port: 443, nodePort: 30443 },
        ]),
        service('new', [{ port: 80, nodePort: 30001 }]),
      ],
      [existing(web)],
      [...backends].reverse(),
    );
    expect(changes.keep.map((k) => k.name)).to.deep.equal(['dev-lb.default.web']);
    expect(changes.remove).to.deep.equal([]);
    expect(changes.create).to.deep.equal([
      {
        service: { namespace: 'default', name: 'new', uid: 'uid-new' },
        ports: [{ port: 80, protocol: 'TCP', nodePort: 30001, hostPort: 0 }],
        backends: ['172.18.0.3', '172.18.0.2'],
      },
    ]);
  });

  it('re-creates a changed Service’s load balancer, keeping the host ports of the ports it had', () => {
    const changes = planLoadBalancerChanges(
      [
        service('web', [
          { port: 8080, nodePort: 31111 },
          { port: 9090, nodePort: 30909 },
        ]),
      ],
      [existing(web)],
      backends,
    );
    expect(changes.remove.map((r) => r.name)).to.deep.equal(['dev-lb.default.web']);
    expect(changes.create[0]?.ports).to.deep.equal([
      { port: 8080, protocol: 'TCP', nodePort: 31111, hostPort: 8080 },
      { port: 9090, protocol: 'TCP', nodePort: 30909, hostPort: 0 },
    ]);
  });

  it('removes load balancers of deleted, re-created, re-typed, other-class and UDP-only Services', () => {
    const others = ['gone', 'recreated', 'typed', 'classy', 'udp'].map((name) =>
      existing({ ...web, service: { namespace: 'default', name, uid: `uid-${name}` } }),
    );
    const changes = planLoadBalancerChanges(
      [
        service('recreated', [{ port: 80, nodePort: 30001 }], {}, 'uid-recreated-2'),
        service('typed', [{ port: 80, nodePort: 30001 }], { type: 'NodePort' }),
        service('classy', [{ port: 80, nodePort: 30001 }], { loadBalancerClass: 'example.com/lb' }),
        service('udp', [{ port: 53, nodePort: 30053, protocol: 'UDP' }]),
      ],
      others,
      backends,
    );
    expect(changes.remove.map((r) => r.record.service.name).sort()).to.deep.equal(
      ['classy', 'gone', 'recreated', 'typed', 'udp'].sort(),
    );
    expect(changes.create.map((c) => c.service.uid)).to.deep.equal(['uid-recreated-2']);
    expect([...changes.skipped.keys()]).to.deep.equal(['default/udp']);
  });

  it('re-creates load balancers when the node addresses change, and removes duplicates', () => {
    const changes = planLoadBalancerChanges(
      [
        service('web', [
          { port: 8080, nodePort: 30080 },
          { port: 443, nodePort: 30443 },
        ]),
      ],
      [existing(web), { ...existing(web), id: 'twin' }],
      ['172.18.0.9'],
    );
    expect(changes.remove.map((r) => r.id).sort()).to.deep.equal(['id-web', 'twin']);
    expect(changes.create[0]?.backends).to.deep.equal(['172.18.0.9']);
  });

  it('patches status and annotation only where they differ, and clears only what kur wrote', () => {
    const svc = service('web', []);
    expect(servicePatches(svc, web)).to.deep.equal({
      status: { status: { loadBalancer: { ingress: [{ ip: '127.0.0.1', ipMode: 'Proxy' }] } } },
      metadata: { metadata: { annotations: { [hostPortsAnnotation]: '8080/TCP=8080,443/TCP=41234' } } },
    });
    const done: KubeService = {
      ...svc,
      metadata: { ...svc.metadata, annotations: { [hostPortsAnnotation]: '8080/TCP=8080,443/TCP=41234' } },
      status: { loadBalancer: { ingress: [{ ip: '127.0.0.1', ipMode: 'Proxy' }] } },
    };
    expect(servicePatches(done, web)).to.deep.equal({});
    expect(servicePatches(done, undefined)).to.deep.equal({
      status: { status: { loadBalancer: { ingress: null } } },
      metadata: { metadata: { annotations: { [hostPortsAnnotation]: null } } },
    });
    const foreign: KubeService = { ...svc, status: { loadBalancer: { ingress: [{ ip: '203.0.113.7' }] } } };
    expect(servicePatches(foreign, undefined)).to.deep.equal({});
  });

  it('prefers the Service’s own port when it is unprivileged, free and nobody holds it', () => {
    expect(preferredHostPort(8080, new Set(), true)).to.equal(8080);
    expect(preferredHostPort(80, new Set(), true)).to.equal(undefined);
    expect(preferredHostPort(8080, new Set([8080]), true)).to.equal(undefined);
    expect(preferredHostPort(8080, new Set(), false)).to.equal(undefined);
  });

  it('counts as taken every published port, of stopped containers too, and every API server port', async () => {
    const engine = new FakeEngine({ images: { img: {} } });
    const lb = await engine.containers.create(loadBalancerSpec('dev', 'img', web));
    await engine.containers.create({
      name: 'dev.kur-cluster',
      image: 'img',
      labels: {
        [labels.cluster]: 'dev',
        [labels.role]: 'cluster',
        [labels.node]: 'dev.kur-cluster',
        [labels.apiPort]: '40123',
      },
    });
    expect(engine.containersById.get(lb)?.state).to.equal('created');
    expect([...(await takenHostPorts(engine))].sort()).to.deep.equal([40123, 41234, 8080].sort());
  });
});
