import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { expect } from 'chai';
import { parse } from 'yaml';
import { describeClusterEngines } from '../support/cluster-engines.js';
import { clusterObjects } from '../support/engine-objects.js';
import { E2eRun } from '../support/clusters.js';
import { eventually } from '../support/eventually.js';
import { ensureBuilt, projectRoot } from '../support/kur-cli.js';
import { readyNodes } from '../library/kube-api.js';
import { describeStep, FakeRunner } from './runner-files.js';
import type { GetNodesResult } from '../../src/api/results.js';

/**
 * The GitHub Action without GitHub: bin/action-main.js and bin/action-post.js run the way the
 * runner runs them (inputs as INPUT_*, command files, state handed to the post step as STATE_*),
 * against a real engine.
 */
const mainEntry = join(projectRoot, 'bin', 'action-main.js');
const postEntry = join(projectRoot, 'bin', 'action-post.js');

interface ActionYml {
  inputs: Record<string, { default?: string }>;
  outputs: Record<string, unknown>;
  runs: { using: string; main: string; post: string; 'post-if': string };
}

/** Inputs as the runner passes them: every input of action.yml, with its default unless given. */
function inputsWith(given: Record<string, string>): Record<string, string> {
  const action = parse(readFileSync(join(projectRoot, 'action.yml'), 'utf8')) as ActionYml;
  const inputs: Record<string, string> = {};
  for (const [name, spec] of Object.entries(action.inputs)) inputs[name] = given[name] ?? spec.default ?? '';
  for (const name of Object.keys(given)) {
    if (!(name in action.inputs)) throw new Error(`action.yml has no input ${name}`);
  }
  return inputs;
}

describe('action.yml', () => {
  it('runs the shims as a node action with a post step that always runs', () => {
    const action = parse(readFileSync(join(projectRoot, 'action.yml'), 'utf8')) as ActionYml;
    expect(action.runs).to.deep.equal({
      using: 'node24',
      main: 'bin/action-main.js',
      post: 'bin/action-post.js',
      'post-if': 'always()',
    });
    expect(Object.keys(action.outputs).sort()).to.deep.equal(
      ['cluster-name', 'context', 'kubeconfig', 'kubernetes-version', 'kur', 'server'].sort(),
    );
    for (const file of [action.runs.main, action.runs.post]) {
      expect(existsSync(join(projectRoot, file)), file).to.equal(true);
    }
  });
});

describe('the action in a fresh checkout', () => {
  let checkout: string;
  let runner: FakeRunner;

  before(function () {
    this.timeout(60_000);
    // The files a clone of the repository has (tracked and new ones, not ignored ones): no dist/, no node_modules/.
    checkout = mkdtempSync(join(tmpdir(), 'kur-action-checkout-'));
    const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
      cwd: projectRoot,
      encoding: 'utf8',
    })
      .split('\0')
      .filter((f) => f !== '' && existsSync(join(projectRoot, f)));
    for (const file of files) {
      mkdirSync(dirname(join(checkout, file)), { recursive: true });
      copyFileSync(join(projectRoot, file), join(checkout, file));
    }
    runner = new FakeRunner('kur-action-fresh');
  });

  after(() => {
    rmSync(checkout, { recursive: true, force: true });
    runner.remove();
  });

  it('builds itself on first use (npm ci, tsc), then runs: an invalid config fails the step', async function () {
    this.timeout(15 * 60_000);
    expect(existsSync(join(checkout, 'dist')), 'dist/ in the checkout').to.equal(false);
    writeFileSync(
      join(runner.workspace, 'kur.yaml'),
      'apiVersion: kur.dev/v1alpha1\nkind: Cluster\nnodes: 3\n',
    );
    const main = await runner.run(
      join(checkout, 'bin', 'action-main.js'),
      inputsWith({ config: 'kur.yaml' }),
      'main',
    );
    expect(main.code, describeStep(main)).to.equal(1);
    expect(main.stdout).to.include(`kur: building the action from ${checkout}/`);
    expect(main.stdout).to.match(
      /^::error title=kur%3A creating the cluster failed::.*kur\.yaml:3:8: nodes: /m,
    );
    expect(existsSync(join(checkout, 'dist', 'action', 'main.js')), 'built entry').to.equal(true);
    // Nothing was named, so the post step has nothing to do.
    expect(runner.state()).to.deep.equal({ kurRoot: `${checkout}/` });
    const post = await runner.run(join(checkout, 'bin', 'action-post.js'), inputsWith({}), 'post');
    expect(post.code, describeStep(post)).to.equal(0);
    expect(post.stdout).to.include('nothing to delete');
  });
});

describeClusterEngines('GitHub Action', (target) => {
  const id = randomBytes(3).toString('hex');
  const run = new E2eRun(target, id);
  const names: string[] = [];
  const runners: FakeRunner[] = [];
  const newRunner = (): FakeRunner => {
    const runner = new FakeRunner(`kur-action-${id}`);
    runners.push(runner);
    return runner;
  };

  before(async function () {
    this.timeout(300_000);
    ensureBuilt();
    await run.prepare();
  });

  after(async function () {
    this.timeout(300_000);
    try {
      await run.cleanUp(names);
    } finally {
      for (const runner of runners) runner.remove();
    }
  });

  it('creates the cluster in the main step (outputs, KUBECONFIG, kur on PATH) and deletes it in the post step', async function () {
    this.timeout(20 * 60_000);
    const name = `act-${id}-main`;
    names.push(name);
    const runner = newRunner();
    // The name comes from the config file (cluster-name is empty), read relative to the workspace.
    writeFileSync(
      join(runner.workspace, 'cluster.yaml'),
      `apiVersion: kur.dev/v1alpha1\nkind: Cluster\nname: ${name}\nnodes:\n  - role: control-plane\n`,
    );
    const inputs = inputsWith({ config: 'cluster.yaml', host: target.host, wait: '4m' });
    const main = await runner.run(mainEntry, inputs, 'main');
    expect(main.code, describeStep(main)).to.equal(0);
    expect(main.stdout).to.match(/^\[kur\] Preflight$/m);
    expect(main.stdout).to.match(/^\[kur\] Wait for nodes and DNS: done in /m);

    const outputs = runner.outputs();
    expect(Object.keys(outputs).sort()).to.deep.equal(
      ['cluster-name', 'context', 'kubeconfig', 'kubernetes-version', 'kur', 'server'].sort(),
    );
    expect(outputs['cluster-name']).to.equal(name);
    expect(outputs.context).to.equal(`kur-${name}`);
    expect(outputs.server).to.match(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(outputs['kubernetes-version']).to.match(/^v1\.\d+\.\d+/);
    const kubeconfig = outputs.kubeconfig!;
    expect(kubeconfig.startsWith(`${runner.temp}/kur-${name}-`), kubeconfig).to.equal(true);
    expect(runner.exported()).to.deep.equal({ KUBECONFIG: kubeconfig, KUR_HOST: target.host });
    expect(runner.paths()).to.deep.equal([dirname(outputs.kur!)]);
    expect(await readyNodes(readFileSync(kubeconfig, 'utf8'))).to.deep.equal([`${name}-control-plane`]);

    // A later step: `kur` from PATH, with the exported environment, finds the cluster.
    const later = execFileSync(outputs.kur!, ['-o', 'json', 'get', 'nodes', '--name', name], {
      env: { ...runner.env({}, 'main'), ...runner.exported() },
      encoding: 'utf8',
    });
    expect((JSON.parse(later) as GetNodesResult).nodes.map((n) => n.name)).to.deep.equal([
      `${name}-control-plane`,
    ]);

    const state = runner.state();
    expect(state).to.include({ cluster: name, kubeconfig, host: target.host, kurRoot: projectRoot });
    const post = await runner.run(postEntry, inputs, 'post');
    expect(post.code, describeStep(post)).to.equal(0);
    expect(post.stdout).to.include(`kur: deleted cluster "${name}" (${name}-control-plane).`);
    expect(await clusterObjects(run.engine, name)).to.deep.equal([]);
    expect(existsSync(state.workDir!), 'the action temp dir after post').to.equal(false);
    expect(existsSync(kubeconfig), 'kubeconfig after post').to.equal(false);

    // The post step is idempotent (a re-run job, or a cleanup that already happened).
    const again = await runner.run(postEntry, inputs, 'post');
    expect(again.code, describeStep(again)).to.equal(0);
    expect(again.stdout).to.include(`cluster "${name}" was not there`);
  });

  it('rolls back when the job is cancelled during the create, and the post step still succeeds', async function () {
    this.timeout(20 * 60_000);
    const name = `act-${id}-cancel`;
    names.push(name);
    const runner = newRunner();
    const inputs = inputsWith({ 'cluster-name': name, host: target.host });
    const main = runner.start(mainEntry, inputs, 'main');
    let exited = false;
    void main.done.then(() => (exited = true));
    await eventually(
      'the main step to start the node',
      10 * 60_000,
      () => {
        if (exited) throw new Error(`the main step ended first:\n${main.stdout()}`);
        return main.stdout().includes(`${name}-control-plane: booting systemd`) ? true : undefined;
      },
      100,
    );
    expect(await clusterObjects(run.engine, name), 'objects before the signal').to.not.deep.equal([]);
    // The runner cancels a step with SIGINT.
    main.child.kill('SIGINT');
    const result = await main.done;
    expect(result.code, describeStep(result)).to.equal(1);
    expect(result.stdout).to.match(/^::warning::SIGINT received/m);
    expect(result.stdout).to.match(
      /^::error title=kur%3A creating the cluster failed::creating cluster .* was interrupted/m,
    );
    expect(await clusterObjects(run.engine, name)).to.deep.equal([]);
    expect(runner.outputs()).to.deep.equal({});

    const post = await runner.run(postEntry, inputs, 'post');
    expect(post.code, describeStep(post)).to.equal(0);
    expect(post.stdout).to.include(`cluster "${name}" was not there`);
    expect(existsSync(runner.state().workDir!), 'the action temp dir after post').to.equal(false);
  });
});
