import { expect } from 'chai';
import type { CreatedCluster } from '../cluster/create.js';
import type { StartedCluster } from '../cluster/lifecycle.js';
import { createClusterResult, phaseTimings, startedClusterResult, totalDurationMs } from './results.js';

const timings = [
  { path: ['Preflight'], ids: ['preflight'], durationMs: 10.4 },
  { path: ['Start nodes'], ids: ['nodes'], durationMs: 1000.6 },
  { path: ['Start nodes', 'a-control-plane'], ids: ['nodes', 'a-control-plane'], durationMs: 990.2 },
];
const nodes = [{ name: 'a-control-plane', role: 'control-plane', ipv4: '172.18.0.2' }];

describe('JSON results', () => {
  it('names phases by their path and rounds to whole milliseconds', () => {
    expect(phaseTimings(timings)).to.deep.equal([
      { phase: 'Preflight', ms: 10 },
      { phase: 'Start nodes', ms: 1001 },
      { phase: 'Start nodes > a-control-plane', ms: 990 },
    ]);
  });

  it('totals the top-level steps only (sub-steps run inside them)', () => {
    expect(totalDurationMs(timings)).to.equal(1011);
    expect(totalDurationMs([])).to.equal(0);
  });

  it('gives create cluster its documented shape, without the kubeconfig text', () => {
    const created: CreatedCluster = {
      name: 'a',
      context: 'kur-a',
      server: 'https://127.0.0.1:1',
      kubeconfig: 'SECRET',
      kubeconfigPath: undefined,
      nodes,
      kubernetesVersion: 'v1.37.2',
      timings,
    };
    const result = createClusterResult(created);
    expect(Object.keys(result)).to.deep.equal([
      'name',
      'context',
      'server',
      'kubeconfigPath',
      'kubernetesVersion',
      'nodes',
      'timings',
      'totalMs',
    ]);
    expect(result.kubeconfigPath).to.equal(null);
    expect(result.totalMs).to.equal(1011);
    expect(JSON.stringify(result)).to.not.include('SECRET');
  });

  it('gives start cluster {name, context, server, nodes, timings, totalMs}', () => {
    const started: StartedCluster = {
      name: 'a',
      context: 'kur-a',
      server: 'https://127.0.0.1:1',
      nodes,
      timings,
    };
    expect(startedClusterResult(started)).to.deep.equal({
      name: 'a',
      context: 'kur-a',
      server: 'https://127.0.0.1:1',
      nodes,
      timings: phaseTimings(timings),
      totalMs: 1011,
    });
  });
});
