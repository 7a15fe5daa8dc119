import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { describeEachEngine } from '../support/engines.js';
import { ensureBuilt, projectRoot, runKur, type KurRun } from '../support/kur-cli.js';

/**
 * The machine-readable CLI contract for commands that need no cluster: with `--output json` a
 * successful command prints exactly one JSON document of a fixed shape on stdout; a failed one
 * prints nothing on stdout, `ERROR: ...` on stderr, and exits with its kind's code. Cluster-bearing
 * shapes (create, get nodes, get kubeconfig, load, export logs) are covered by e2e/cluster.
 */

function describeRun(result: KurRun): string {
  return `exit code ${result.code}\n--- stdout\n${result.stdout}--- stderr\n${result.stderr}`;
}

/** stdout as one JSON document (JSON.parse rejects anything around it). */
function json(result: KurRun): Record<string, unknown> {
  expect(result.code, describeRun(result)).to.equal(0);
  const parsed: unknown = JSON.parse(result.stdout);
  expect(parsed, 'a JSON object').to.be.an('object');
  return parsed as Record<string, unknown>;
}

/** Exactly these keys: a field that appears or disappears is a change of the contract. */
function expectKeys(value: unknown, keys: string[], what: string): Record<string, unknown> {
  expect(value, what).to.be.an('object');
  expect(Object.keys(value as object).sort(), what).to.deep.equal([...keys].sort());
  return value as Record<string, unknown>;
}

function expectFailure(result: KurRun, code: number, message: RegExp): void {
  expect(result.code, describeRun(result)).to.equal(code);
  expect(result.stdout, 'stdout of a failed command').to.equal('');
  expect(result.stderr).to.match(message);
}

/** An env with no engine variables, so only --host decides. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of ['KUR_HOST', 'DOCKER_HOST', 'CONTAINER_HOST', 'KUBECONFIG', 'KUR_PROVIDER'])
    delete env[name];
  return env;
}

const packageVersion = (
  JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8')) as { version: string }
).version;

describe('CLI --output json without an engine', () => {
  before(function () {
    this.timeout(300_000);
    ensureBuilt();
  });

  it('version: {kur, node, platform}', async () => {
    const data = expectKeys(
      json(await runKur(['-o', 'json', 'version'])),
      ['kur', 'node', 'platform'],
      'version',
    );
    expect(data.kur).to.equal(packageVersion);
    expect(data.node).to.equal(process.version);
    expect(data.platform).to.equal(`${process.platform}/${process.arch}`);
  });

  it('a result format other than text or json is a usage error (2)', async () => {
    const result = await runKur(['-o', 'yaml', 'version']);
    expectFailure(result, 2, /argument 'yaml' is invalid/);
  });

  it('an engine that does not answer is an engine error (4), naming it', async () => {
    const result = await runKur(['--host', 'unix:///nonexistent/kur.sock', '-o', 'json', 'info'], {
      env: cleanEnv(),
    });
    expectFailure(
      result,
      4,
      /^ERROR: the engine named by --host \(unix:\/\/\/nonexistent\/kur\.sock\) does not answer/m,
    );
  });

  it('an invalid config is a config error (3) with file:line:col, before any engine is asked', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kur-cli-json-'));
    try {
      const file = join(dir, 'bad.yaml');
      writeFileSync(
        file,
        'apiVersion: kur.dev/v1alpha1\nkind: Cluster\nnodes:\n  - role: control-plane\n    imag: x\n',
      );
      const kubeconfig = join(dir, 'kubeconfig');
      const result = await runKur(
        [
          '--host',
          'unix:///nonexistent/kur.sock',
          '-o',
          'json',
          'create',
          'cluster',
          '--config',
          file,
          '--kubeconfig',
          kubeconfig,
        ],
        { env: cleanEnv() },
      );
      expectFailure(
        result,
        3,
        new RegExp(
          `^ERROR: ${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:5:5: nodes\\[0\\]\\.imag: unknown field`,
          'm',
        ),
      );
      expect(existsSync(kubeconfig), 'kubeconfig written').to.equal(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('bad flag values are usage errors (2)', async () => {
    const env = cleanEnv();
    const host = ['--host', 'unix:///nonexistent/kur.sock', '-o', 'json'];
    expectFailure(
      await runKur([...host, 'create', 'cluster', '--wait', 'soon'], { env }),
      2,
      /--wait: "soon" is not a duration/,
    );
    expectFailure(
      await runKur([...host, 'build', 'node-image', '--no-load'], { env }),
      2,
      /--no-load needs --archive/,
    );
    expectFailure(await runKur([...host, 'frobnicate'], { env }), 2, /unknown command 'frobnicate'/);
  });
});

describeEachEngine('CLI --output json', (engine) => {
  const missing = `lib-missing-${randomBytes(3).toString('hex')}`;
  const kur = (args: string[]): Promise<KurRun> =>
    runKur(['--host', engine.host, '-o', 'json', ...args], { env: cleanEnv() });

  before(function () {
    this.timeout(300_000);
    ensureBuilt();
  });

  it('info: the endpoint and what the engine allows', async function () {
    this.timeout(120_000);
    const data = expectKeys(
      json(await kur(['info'])),
      ['kur', 'endpoint', 'engine', 'detectMs', 'preflight'],
      'info',
    );
    expect(expectKeys(data.kur, ['version'], 'info.kur')).to.deep.equal({ version: packageVersion });
    expect(expectKeys(data.endpoint, ['source', 'description', 'address'], 'info.endpoint')).to.deep.equal({
      source: '--host',
      description: '--host',
      address: engine.host,
    });
    const e = expectKeys(
      data.engine,
      [
        'provider',
        'version',
        'apiVersion',
        'rootless',
        'cgroupVersion',
        'cgroupDriver',
        'limits',
        'privilege',
        'missingCapabilities',
        'privilegeReason',
        'os',
        'kernel',
        'arch',
        'storageDriver',
        'runtime',
        'bridgeMtu',
        'cpus',
        'memoryBytes',
        'warnings',
      ],
      'info.engine',
    );
    expect(e.provider).to.equal(engine.expected.provider);
    expect(e.rootless).to.equal(engine.expected.rootless);
    expect(e.privilege).to.be.oneOf(['privileged', 'explicit-capabilities', 'unavailable']);
    expect(e.cgroupVersion).to.be.oneOf([1, 2, null]);
    expectKeys(e.limits, ['memory', 'pids', 'cpu'], 'info.engine.limits');
    expect(e.missingCapabilities).to.be.an('array');
    expect(e.warnings).to.be.an('array');
    expect(data.detectMs).to.be.a('number');
    const checks = data.preflight as unknown[];
    expect(checks, 'info.preflight').to.be.an('array').that.is.not.empty;
    for (const check of checks) {
      const keys = ['id', 'title', 'status', 'looked', 'message'];
      const c = check as Record<string, unknown>;
      expectKeys(check, 'fix' in c ? [...keys, 'fix'] : keys, `info.preflight ${String(c.id)}`);
      expect(c.status).to.be.oneOf(['ok', 'warn', 'fail', 'skip']);
    }
  });

  it('get clusters: {clusters: [{name, state, nodes: [{name, role, state, image}]}]}', async () => {
    const data = expectKeys(json(await kur(['get', 'clusters'])), ['clusters'], 'get clusters');
    expect(data.clusters).to.be.an('array');
    // Other suites may have clusters on this engine: every entry must have the shape.
    for (const cluster of data.clusters as unknown[]) {
      const c = expectKeys(cluster, ['name', 'state', 'nodes'], 'a cluster');
      expect(c.state).to.be.oneOf(['running', 'stopped', 'degraded', 'incomplete']);
      for (const node of c.nodes as unknown[]) expectKeys(node, ['name', 'role', 'state', 'image'], 'a node');
    }
  });

  it('delete cluster of a missing cluster succeeds with empty lists (idempotent)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kur-cli-json-'));
    try {
      const data = expectKeys(
        json(await kur(['delete', 'cluster', '--name', missing, '--kubeconfig', join(dir, 'kubeconfig')])),
        ['deleted'],
        'delete cluster',
      );
      expect(data.deleted).to.have.length(1);
      const d = expectKeys(
        (data.deleted as unknown[])[0],
        ['name', 'containers', 'volumes', 'networkRemoved', 'kubeconfigEntryRemoved'],
        'deleted[0]',
      );
      expect(d).to.deep.include({
        name: missing,
        containers: [],
        volumes: [],
        kubeconfigEntryRemoved: false,
      });
      expect(d.networkRemoved).to.be.a('boolean');
      expect(existsSync(join(dir, 'kubeconfig')), 'a kubeconfig created by delete').to.equal(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('commands on a missing cluster or image are not-found errors (6) with nothing on stdout', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kur-cli-json-'));
    try {
      const noCluster = new RegExp(`^ERROR: no cluster named "${missing}"`, 'm');
      expectFailure(await kur(['get', 'nodes', '--name', missing]), 6, noCluster);
      expectFailure(await kur(['get', 'kubeconfig', '--name', missing]), 6, noCluster);
      expectFailure(await kur(['export', 'logs', join(dir, 'logs'), '--name', missing]), 6, noCluster);
      expect(existsSync(join(dir, 'logs')), 'logs dir of a missing cluster').to.equal(false);
      expectFailure(
        await kur(['load', 'docker-image', `kur.local/${missing}:none`, '--name', missing]),
        6,
        /^ERROR: image kur\.local\/lib-missing-\w+:none is not on the engine/m,
      );
      expectFailure(
        await kur(['load', 'image-archive', join(dir, 'none.tar'), '--name', missing]),
        // A missing file is not found (6), like a missing image: not a usage error.
        6,
        /^ERROR: image archive .*none\.tar does not exist/m,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
