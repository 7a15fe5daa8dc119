/* global describe, it */
// A spec run under kur-root-hooks.mjs: the cluster exists and KUBECONFIG points at it.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { listClusters } from 'kur';
import { cluster } from './kur-root-hooks.mjs';

describe('a spec using the root hooks cluster', () => {
  it('sees the cluster on the engine and its kubeconfig in KUBECONFIG', async () => {
    assert.equal(process.env.KUBECONFIG, cluster.kubeconfigPath);
    assert.match(
      readFileSync(process.env.KUBECONFIG, 'utf8'),
      new RegExp(`current-context: ${cluster.context}`),
    );
    const names = (await listClusters()).map((c) => c.name);
    assert.ok(names.includes(cluster.name), `${cluster.name} in ${names.join(', ')}`);
    console.log(`cluster ${cluster.name} at ${cluster.server}`);
  });
});
