import { expect } from 'chai';
import type { ClusterSummary } from '../cluster/clusters.js';
import { clusterSelection } from './cluster-flags.js';
import { renderClusters, renderServices } from './get.js';
import { buildProgram } from './main.js';
import { renderStarted } from './start-cluster.js';
import { renderStopped } from './stop-cluster.js';

const node = { name: 'a-control-plane', role: 'control-plane', state: 'running', image: 'kur.local/node:v1' };

describe('CLI commands', () => {
  it('selects one cluster by name, or all of them with --all', () => {
    expect(clusterSelection({ name: 'kur' })).to.deep.equal({ name: 'kur' });
    expect(clusterSelection({ name: 'kur', all: true })).to.deep.equal({ all: true });
  });

  it('has stop and start commands taking --name, --all and (start) --wait', () => {
    const program = buildProgram();
    const sub = (verb: string) => program.commands.find((c) => c.name() === verb)?.commands[0];
    const flags = (verb: string) => sub(verb)?.options.map((o) => o.long);
    expect(flags('stop')).to.deep.equal(['--name', '--all']);
    expect(flags('start')).to.deep.equal(['--name', '--all', '--wait']);
    expect(flags('delete')).to.deep.equal(['--name', '--all', '--kubeconfig']);
    expect(sub('start')?.getOptionValue('wait')).to.equal('5m');
  });

  it('lists clusters as a table with their state', () => {
    const clusters = [
      { name: 'a', state: 'running', nodes: [node] },
      { name: 'b', state: 'stopped', nodes: [node, node] },
    ] as ClusterSummary[];
    expect(renderClusters({ clusters }).split('\n')).to.deep.equal([
      'NAME   STATE     NODES',
      'a      running   1',
      'b      stopped   2',
    ]);
    expect(renderClusters({ clusters: [] })).to.equal('No kur clusters.');
  });

  it('has serve load-balancers taking --name, and lists Service load balancers with their addresses', () => {
    const serve = buildProgram().commands.find((c) => c.name() === 'serve')?.commands[0];
    expect(serve?.name()).to.equal('load-balancers');
    expect(serve?.options.map((o) => o.long)).to.deep.equal(['--name']);
    const port = {
      port: 80,
      protocol: 'TCP' as const,
      nodePort: 30080,
      hostPort: 41000,
      address: '127.0.0.1:41000',
    };
    const services = [
      {
        namespace: 'default',
        name: 'web',
        uid: 'u',
        container: 'a-lb.default.web',
        state: 'running',
        ports: [port],
      },
    ];
    expect(renderServices({ cluster: 'a', services }).split('\n')).to.deep.equal([
      'NAMESPACE   NAME   STATE     PORTS',
      'default     web    running   127.0.0.1:41000->80/TCP',
    ]);
    expect(renderServices({ cluster: 'a', services: [] })).to.match(
      /No Service load balancers in cluster "a"/,
    );
  });

  it('says what stop and start did', () => {
    expect(renderStopped({ stopped: [{ name: 'a', containers: ['a-control-plane', 'a-worker'] }] })).to.equal(
      'Stopped cluster "a" (2 container(s)).',
    );
    expect(renderStopped({ stopped: [] })).to.equal('No clusters to stop.');
    const started = {
      name: 'a',
      context: 'kur-a',
      server: 'https://127.0.0.1:1',
      nodes: [{ name: 'a-control-plane', role: 'control-plane', ipv4: '172.18.0.2' }],
      timings: [],
      totalMs: 12_300,
    };
    expect(renderStarted({ started: [started] })).to.equal(
      'Cluster "a" is running again (12.3s): 1 node(s), API server https://127.0.0.1:1.',
    );
  });
});
