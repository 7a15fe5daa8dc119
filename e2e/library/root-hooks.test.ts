import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { describeClusterEngines } from '../support/cluster-engines.js';
import { clusterObjects } from '../support/engine-objects.js';
import { E2eRun } from '../support/clusters.js';
import { ensureBuilt, projectRoot } from '../support/kur-cli.js';

/**
 * The README's mocha root-hook example (examples/kur-root-hooks.mjs), run as a user runs it: its
 * own mocha process, `import ... from 'kur'` (the package's self-reference, i.e. dist/), one
 * cluster created before all specs and deleted after them.
 */
const exec = promisify(execFile);
const examples = join(projectRoot, 'e2e', 'library', 'examples');

describeClusterEngines('the mocha root-hook example', (target) => {
  const id = randomBytes(3).toString('hex');
  const run = new E2eRun(target, id);
  const name = `lib-${id}-hooks`;

  before(async function () {
    this.timeout(300_000);
    ensureBuilt();
    await run.prepare();
  });

  after(async function () {
    this.timeout(300_000);
    await run.cleanUp([name]);
  });

  it('creates the cluster before the specs and deletes it after them', async function () {
    this.timeout(20 * 60_000);
    const mocha = join(projectRoot, 'node_modules', 'mocha', 'bin', 'mocha.js');
    const result = await exec(
      process.execPath,
      [mocha, '--no-config', '--no-package', '--require', 'kur-root-hooks.mjs', 'cluster.spec.mjs'],
      {
        cwd: examples,
        env: { ...run.kurEnv(), KUR_HOST: target.host, TEST_CLUSTER: name },
        timeout: 20 * 60_000,
      },
    ).catch((error: { code?: number; stdout?: string; stderr?: string }) => {
      throw new Error(`mocha failed (${error.code}):\n${error.stdout}\n${error.stderr}`);
    });
    expect(result.stdout).to.match(new RegExp(`cluster ${name} at https://127\\.0\\.0\\.1:\\d+`));
    expect(result.stdout).to.match(/1 passing/);
    expect(await clusterObjects(run.engine, name)).to.deep.equal([]);
  });
});
