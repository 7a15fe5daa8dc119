import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { describeClusterEngines } from '../support/cluster-engines.js';
import { clusterObjects } from '../support/engine-objects.js';
import { E2eRun } from '../support/clusters.js';
import { projectRoot } from '../support/kur-cli.js';
import { describeStep, FakeRunner } from '../action/runner-files.js';

/**
 * The package as npm users get it: `npm pack` of this checkout, installed into an empty folder,
 * compiled against by a TypeScript consumer (types resolve, wrong options are type errors), and
 * its API creating and disposing a cluster there.
 */
const exec = promisify(execFile);

interface Packed {
  filename: string;
  files: { path: string }[];
}

function versionOf(pkg: string): string {
  const path = join(projectRoot, 'node_modules', pkg, 'package.json');
  return (JSON.parse(readFileSync(path, 'utf8')) as { version: string }).version;
}

/** Runs a command; rejects with its whole output when it fails. */
async function sh(
  file: string,
  args: string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number },
): Promise<string> {
  try {
    const { stdout } = await exec(file, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      maxBuffer: 64 * 1024 * 1024,
      timeout: options.timeoutMs ?? 600_000,
    });
    return stdout;
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    throw new Error(`${file} ${args.join(' ')} failed (${e.code}):\n${e.stdout ?? ''}\n${e.stderr ?? ''}`, {
      cause: error,
    });
  }
}

const consumer = `import { existsSync } from 'node:fs';
import { createCluster, listClusters, KurError, exitCodes, type Cluster, type ClusterConfigInput, type ProgressEvent } from 'kur';

const [host, name] = process.argv.slice(2) as [string, string];
const config: ClusterConfigInput = { name, nodes: [{ role: 'control-plane' }] };
const phases: string[] = [];
let kubeconfigPath = '';
{
  await using cluster: Cluster = await createCluster({
    ...config,
    host,
    wait: '4m',
    onProgress: (event: ProgressEvent) => {
      if (event.type === 'done' && event.path.length === 1) phases.push(event.path[0]!);
    },
  });
  kubeconfigPath = cluster.kubeconfigPath ?? '';
  const listed = (await listClusters({ host })).map((c) => c.name);
  console.log(JSON.stringify({
    inside: { name: cluster.name, server: cluster.server, nodes: cluster.nodes.map((n) => n.name), kubeconfigExists: existsSync(kubeconfigPath), listed, phases },
  }));
}
console.log(JSON.stringify({ after: { kubeconfigExists: existsSync(kubeconfigPath), listed: (await listClusters({ host })).map((c) => c.name) } }));
const error: KurError = new KurError('usage', 'typed');
if (error.exitCode !== exitCodes.usage) throw new Error('exit codes do not match');
`;

const wrongOption = `import { createCluster } from 'kur';
await createCluster({ nodes: [{ role: 'boss' }] });
`;

const tsconfig = (files: string[]) =>
  JSON.stringify({
    compilerOptions: {
      target: 'ES2023',
      lib: ['ES2023', 'ESNext.Disposable'],
      module: 'NodeNext',
      moduleResolution: 'NodeNext',
      strict: true,
      types: ['node'],
      outDir: '.',
    },
    files,
  });

describe('npm pack', () => {
  let dir: string;
  let tarball: string;
  let files: string[];

  before(async function () {
    this.timeout(15 * 60_000);
    dir = mkdtempSync(join(tmpdir(), 'kur-pack-'));
    // prepack builds dist/ from the sources first.
    const out = await sh('npm', ['pack', '--json', '--pack-destination', dir], { cwd: projectRoot });
    const packed = (JSON.parse(out) as Packed[])[0]!;
    tarball = join(dir, packed.filename);
    files = packed.files.map((f) => f.path);
  });

  after(() => rmSync(dir, { recursive: true, force: true }));

  it('ships the built library with declarations, the CLI and the action, and no sources or tests', () => {
    for (const file of [
      'package.json',
      'bin/kur.js',
      'bin/action-main.js',
      'bin/action-post.js',
      'bin/action-bootstrap.js',
      'dist/index.js',
      'dist/index.d.ts',
      'dist/api/create-cluster.d.ts',
      'dist/api/cluster-handle.d.ts',
      'dist/action/main.js',
      'dist/action/post.js',
      'dist/cli/main.js',
      'images/components.json',
    ]) {
      expect(files, file).to.include(file);
    }
    const unwanted = files.filter((f) => /^(src|e2e)\//.test(f) || /\.test\.(js|d\.ts)/.test(f));
    expect(unwanted).to.deep.equal([]);
  });

  describe('installed into an empty folder', () => {
    let app: string;

    before(async function () {
      this.timeout(15 * 60_000);
      app = join(dir, 'app');
      mkdirSync(app);
      writeFileSync(join(app, 'package.json'), '{"name":"kur-consumer","private":true,"type":"module"}\n');
      await sh(
        'npm',
        [
          'install',
          '--no-audit',
          '--no-fund',
          tarball,
          `typescript@${versionOf('typescript')}`,
          `@types/node@${versionOf('@types/node')}`,
        ],
        { cwd: app },
      );
      writeFileSync(join(app, 'consumer.ts'), consumer);
      writeFileSync(join(app, 'tsconfig.json'), tsconfig(['consumer.ts']));
      writeFileSync(join(app, 'wrong.ts'), wrongOption);
      writeFileSync(join(app, 'tsconfig.wrong.json'), tsconfig(['wrong.ts']));
    });

    it('runs the CLI from node_modules/.bin', async function () {
      this.timeout(60_000);
      const out = await sh(join(app, 'node_modules', '.bin', 'kur'), ['-o', 'json', 'version'], { cwd: app });
      const own = JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8')) as { version: string };
      expect(JSON.parse(out)).to.include({ kur: own.version });
    });

    it('type-checks a consumer with `await using` against the shipped declarations', async function () {
      this.timeout(120_000);
      await sh(process.execPath, [join(app, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', '.'], {
        cwd: app,
      });
      expect(readFileSync(join(app, 'consumer.js'), 'utf8')).to.include("from 'kur'");
    });

    it('rejects a wrong config value at compile time (the declarations are real types)', async function () {
      this.timeout(120_000);
      const error = await sh(
        process.execPath,
        [join(app, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.wrong.json'],
        { cwd: app },
      ).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(String(error)).to.match(/wrong\.ts\(2,.*Type '"boss"' is not assignable to type 'NodeRole/);
    });

    describeClusterEngines('its API', (target) => {
      const id = randomBytes(3).toString('hex');
      const run = new E2eRun(target, id);
      const name = `pack-${id}`;

      before(async function () {
        this.timeout(300_000);
        await run.prepare();
      });

      after(async function () {
        this.timeout(300_000);
        await run.cleanUp([name]);
      });

      it('creates a cluster and disposes it', async function () {
        this.timeout(20 * 60_000);
        const out = await sh(process.execPath, ['consumer.js', target.host, name], {
          cwd: app,
          env: run.kurEnv(),
          timeoutMs: 20 * 60_000,
        });
        const [inside, after] = out
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l) as Record<string, Record<string, unknown>>);
        expect(inside?.inside).to.deep.include({
          name,
          nodes: [`${name}-control-plane`],
          kubeconfigExists: true,
        });
        expect(inside?.inside?.listed).to.include(name);
        expect(inside?.inside?.phases).to.include('Wait for nodes and DNS');
        expect(after?.after?.kubeconfigExists).to.equal(false);
        expect(after?.after?.listed).to.not.include(name);
        expect(await clusterObjects(run.engine, name)).to.deep.equal([]);
      });
    });

    it('serves as the action’s kur-version (installed from the tarball by the action shim)', async function () {
      this.timeout(10 * 60_000);
      const runner = new FakeRunner('kur-pack-action');
      try {
        writeFileSync(
          join(runner.workspace, 'bad.yaml'),
          'apiVersion: kur.dev/v1alpha1\nkind: Cluster\nnodez: []\n',
        );
        const inputs = { 'kur-version': tarball, config: 'bad.yaml' };
        const main = await runner.run(join(projectRoot, 'bin', 'action-main.js'), inputs, 'main');
        expect(main.code, describeStep(main)).to.equal(1);
        expect(main.stdout).to.include(`kur: installing ${tarball}`);
        expect(main.stdout).to.match(
          /^::error title=kur%3A creating the cluster failed::.*bad\.yaml:3:1: nodez: unknown field/m,
        );
        const root = runner.state().kurRoot!;
        expect(root.startsWith(join(runner.temp, 'kur-action')), root).to.equal(true);
        expect(root.endsWith(join('node_modules', 'kur'))).to.equal(true);
        const post = await runner.run(join(projectRoot, 'bin', 'action-post.js'), {}, 'post');
        expect(post.code, describeStep(post)).to.equal(0);
        expect(post.stdout).to.include('nothing to delete');
      } finally {
        runner.remove();
      }
    });
  });
});
