// Mocha root hooks: one cluster for the whole test run.
//   mocha --require ./kur-root-hooks.mjs 'test/**/*.spec.mjs'
import { createCluster } from 'kur';

/** The run's cluster; specs import it (`import { cluster } from './kur-root-hooks.mjs'`). */
export let cluster;

export const mochaHooks = {
  async beforeAll() {
    // The first run on a machine builds the node image (minutes); later ones take about a minute.
    this.timeout(30 * 60_000);
    cluster = await createCluster({ name: process.env.TEST_CLUSTER ?? 'mocha', wait: '5m' });
    process.env.KUBECONFIG = cluster.kubeconfigPath;
  },
  async afterAll() {
    this.timeout(120_000);
    await cluster?.delete();
  },
};
