import { expect } from 'chai';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseFileCommands } from '../../e2e/action/runner-files.js';
import { KurError } from '../util/errors.js';
import { nodeImageFor, readInputs, runMain, type ActionInputs } from './main.js';
import { runPost } from './post.js';
import {
  escapeData,
  escapeProperty,
  fileCommandEntry,
  getInput,
  getState,
  WorkflowCommands,
} from './workflow-commands.js';

class Capture {
  text = '';
  write(chunk: string): boolean {
    this.text += chunk;
    return true;
  }
}

describe('GitHub Action plumbing', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kur-action-unit-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('reads inputs the way the runner names them (upper case, hyphens kept, trimmed)', () => {
    const env = { 'INPUT_CLUSTER-NAME': ' ci ', 'INPUT_KUBERNETES-VERSION': 'v1.37.2', INPUT_WAIT: '90s' };
    expect(getInput(env, 'cluster-name')).to.equal('ci');
    expect(getInput(env, 'missing')).to.equal('');
    expect(readInputs(env)).to.deep.equal({
      clusterName: 'ci',
      config: '',
      nodeImage: '',
      nodeImageRegistry: '',
      kubernetesVersion: 'v1.37.2',
      wait: '90s',
      host: '',
      kubeconfig: '',
    });
    expect(getState({ STATE_cluster: 'ci' }, 'cluster')).to.equal('ci');
  });

  it('picks the node image from node-image or kubernetes-version, refusing a disagreement', () => {
    const inputs: ActionInputs = readInputs({});
    expect(nodeImageFor(inputs)).to.equal(undefined);
    expect(nodeImageFor({ ...inputs, kubernetesVersion: 'v1.36.0' })).to.equal('kur.local/node:v1.36.0');
    expect(nodeImageFor({ ...inputs, nodeImage: 'my/node:1' })).to.equal('my/node:1');
    expect(
      nodeImageFor({ ...inputs, nodeImage: 'kur.local/node:v1.36.0', kubernetesVersion: 'v1.36.0' }),
    ).to.equal('kur.local/node:v1.36.0');
    expect(() => nodeImageFor({ ...inputs, nodeImage: 'my/node:1', kubernetesVersion: 'v1.36.0' })).to.throw(
      KurError,
      /disagree/,
    );
  });

  it('writes file commands in the delimiter form the runner parses, multi-line values included', async () => {
    const env = {
      GITHUB_OUTPUT: join(dir, 'out'),
      GITHUB_ENV: join(dir, 'env'),
      GITHUB_STATE: join(dir, 'state'),
      GITHUB_PATH: join(dir, 'path'),
    };
    const gh = new WorkflowCommands(env, new Capture());
    gh.setOutput('server', 'https://127.0.0.1:1');
    gh.setOutput('multi', 'a\nb=c\n<<d');
    gh.exportVariable('KUBECONFIG', '/tmp/k');
    gh.saveState('cluster', 'x');
    gh.saveState('cluster', 'y');
    gh.addPath('/opt/kur/bin');
    expect(parseFileCommands(await readFile(env.GITHUB_OUTPUT, 'utf8'))).to.deep.equal({
      server: 'https://127.0.0.1:1',
      multi: 'a\nb=c\n<<d',
    });
    expect(parseFileCommands(await readFile(env.GITHUB_ENV, 'utf8'))).to.deep.equal({ KUBECONFIG: '/tmp/k' });
    // Later saves of a name win, as in the runner.
    expect(parseFileCommands(await readFile(env.GITHUB_STATE, 'utf8'))).to.deep.equal({ cluster: 'y' });
    expect(await readFile(env.GITHUB_PATH, 'utf8')).to.equal('/opt/kur/bin\n');
    expect(() => fileCommandEntry('a=b', 'x')).to.throw(/invalid name/);
    expect(() => fileCommandEntry('a', 'x\nEOF\n', 'EOF')).to.throw(/delimiter/);
    expect(() => new WorkflowCommands({}, new Capture()).setOutput('a', 'b')).to.throw(
      /GITHUB_OUTPUT is not set/,
    );
  });

  it('escapes workflow command messages and properties', () => {
    expect(escapeData('50% done\nnext\r')).to.equal('50%25 done%0Anext%0D');
    expect(escapeProperty('a: b, c')).to.equal('a%3A b%2C c');
    const out = new Capture();
    new WorkflowCommands({}, out).reportError(
      'kur: creating the cluster failed',
      new KurError('preflight', 'line one\nline two', { hint: 'do this', detail: 'output\n' }),
    );
    expect(out.text).to.equal(
      '::error title=kur%3A creating the cluster failed::line one%0Aline two\noutput\nHINT: do this\n',
    );
  });

  it('fails the main step on an invalid config before saving any state', async () => {
    const config = join(dir, 'bad.yaml');
    await writeFile(config, 'apiVersion: kur.dev/v1alpha1\nkind: Cluster\nnodes:\n  - role: boss\n');
    const state = join(dir, 'state');
    const out = new Capture();
    const code = await runMain(
      { INPUT_CONFIG: config, GITHUB_STATE: state, GITHUB_OUTPUT: join(dir, 'out'), RUNNER_TEMP: dir },
      { out },
    );
    expect(code).to.equal(1);
    expect(out.text).to.match(
      /^::error title=kur%3A creating the cluster failed::.*bad\.yaml:4:11: nodes\[0\]\.role/m,
    );
    await readFile(state, 'utf8').then(
      () => expect.fail('state was written'),
      (error: NodeJS.ErrnoException) => expect(error.code).to.equal('ENOENT'),
    );
  });

  it('does nothing in the post step when the main step saved no cluster', async () => {
    const out = new Capture();
    expect(await runPost({}, { out })).to.equal(0);
    expect(out.text).to.equal('kur: no cluster was created by this action; nothing to delete.\n');
  });
});
