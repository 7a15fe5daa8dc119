import { expect } from 'chai';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kurFailure as rejection } from '../../e2e/support/assert.js';
import { isKurError, KurError } from '../util/errors.js';
import { silentLogger } from '../util/logger.js';
import {
  resolveCreateOptions,
  splitCreateOptions,
  waitMilliseconds,
  type CreateClusterOptions,
} from './create-options.js';

describe('createCluster options', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kur-api-options-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('separates config fields from run options and drops undefined values', () => {
    const signal = new AbortController().signal;
    const { configInput, run } = splitCreateOptions({
      name: 'a',
      nodes: [{ role: 'control-plane' }],
      networking: { podSubnet: '10.10.0.0/16' },
      image: 'kur.local/node:test',
      wait: '1m',
      retain: undefined,
      signal,
    });
    expect(configInput).to.deep.equal({
      name: 'a',
      nodes: [{ role: 'control-plane' }],
      networking: { podSubnet: '10.10.0.0/16' },
    });
    expect(run).to.deep.equal({ image: 'kur.local/node:test', wait: '1m', signal });
  });

  it('rejects an option that is neither a config field nor a run option, listing both', () => {
    const error = (() => {
      try {
        splitCreateOptions({ name: 'a', waitMs: 5 } as CreateClusterOptions);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(isKurError(error, 'usage')).to.equal(true);
    expect((error as KurError).message).to.equal('createCluster: unknown option "waitMs"');
    expect((error as KurError).hint).to.match(/Config fields: .*nodes.*Run options: .*wait/);
  });

  it('takes wait as milliseconds or a duration, default 5 minutes', () => {
    expect(waitMilliseconds(undefined)).to.equal(300_000);
    expect(waitMilliseconds(0)).to.equal(0);
    expect(waitMilliseconds(1500.4)).to.equal(1500);
    expect(waitMilliseconds('90s')).to.equal(90_000);
    expect(waitMilliseconds('1m30s')).to.equal(90_000);
    for (const bad of [-1, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => waitMilliseconds(bad), String(bad)).to.throw(KurError, /not a number of milliseconds/);
    }
    expect(() => waitMilliseconds('soon')).to.throw(KurError, /wait: "soon" is not a duration/);
  });

  it('defaults the config like a file with no fields and uses a private kubeconfig', async () => {
    const resolved = await resolveCreateOptions({}, silentLogger);
    expect(resolved.config.name).to.equal('kur');
    expect(resolved.config.nodes.map((n) => n.role)).to.deep.equal(['control-plane']);
    expect(resolved.waitMs).to.equal(300_000);
    expect(resolved.kubeconfig).to.deep.equal({ kind: 'private' });
  });

  it('maps kubeconfig: a path merges into that file, false writes none, other values are errors', async () => {
    expect((await resolveCreateOptions({ kubeconfig: '/tmp/k' }, silentLogger)).kubeconfig).to.deep.equal({
      kind: 'file',
      path: '/tmp/k',
    });
    expect((await resolveCreateOptions({ kubeconfig: false }, silentLogger)).kubeconfig).to.deep.equal({
      kind: 'none',
    });
    const error = await rejection(resolveCreateOptions({ kubeconfig: '' }, silentLogger));
    expect(error.kind).to.equal('usage');
  });

  it('validates config fields with the config loader (kind config, field named)', async () => {
    const error = await rejection(
      resolveCreateOptions({ name: 'a', nodes: [{ role: 'worker' }] }, silentLogger),
    );
    expect(error.kind).to.equal('config');
    expect(error.message).to.match(/control-plane/);
    const typed = await rejection(
      resolveCreateOptions(
        { networking: { apiServerPort: '80' } } as unknown as CreateClusterOptions,
        silentLogger,
      ),
    );
    expect(typed.kind).to.equal('config');
    expect(typed.message).to.match(/networking\.apiServerPort/);
  });

  it('reads configFile like --config, with name winning over the file', async () => {
    const file = join(dir, 'two.yaml');
    await writeFile(
      file,
      [
        'apiVersion: kur.dev/v1alpha1',
        'kind: Cluster',
        'name: from-file',
        'nodes:',
        '  - role: control-plane',
        '  - role: worker',
        '',
      ].join('\n'),
    );
    const fromFile = await resolveCreateOptions({ configFile: file }, silentLogger);
    expect(fromFile.config.name).to.equal('from-file');
    expect(fromFile.config.nodes.map((n) => n.role)).to.deep.equal(['control-plane', 'worker']);
    const renamed = await resolveCreateOptions({ configFile: file, name: 'override' }, silentLogger);
    expect(renamed.config.name).to.equal('override');
  });

  it('reports configFile problems with file:line:col, and refuses to mix it with config fields', async () => {
    const file = join(dir, 'bad.yaml');
    await writeFile(file, ['apiVersion: kur.dev/v1alpha1', 'kind: Cluster', 'nodez: []', ''].join('\n'));
    const bad = await rejection(resolveCreateOptions({ configFile: file }, silentLogger));
    expect(bad.kind).to.equal('config');
    expect(bad.message).to.include(`${file}:3:1: nodez: unknown field`);
    const missing = await rejection(
      resolveCreateOptions({ configFile: join(dir, 'none.yaml') }, silentLogger),
    );
    expect(missing.kind).to.equal('config');
    expect(missing.message).to.match(/cannot read config .*none\.yaml/);
    const mixed = await rejection(
      resolveCreateOptions({ configFile: file, nodes: [{ role: 'control-plane' }] }, silentLogger),
    );
    expect(mixed.kind).to.equal('usage');
    expect(mixed.message).to.equal('createCluster: configFile cannot be combined with nodes');
  });
});
