import { expect } from 'chai';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { updateKubeconfigFile } from './kubeconfig-file.js';
import {
  hasKubeconfigEntry,
  mergeKubeconfig,
  removeKubeconfigEntry,
  type KubeconfigEntry,
} from './kubeconfig-merge.js';

const entry = (name: string, port: number): KubeconfigEntry => ({
  name,
  server: `https://127.0.0.1:${port}`,
  certificateAuthorityData: 'Q0E=',
  clientCertificateData: 'Q0VSVA==',
  clientKeyData: 'S0VZ',
});

const foreign = `apiVersion: v1
kind: Config
clusters:
  - name: prod
    cluster: { server: https://prod.example:6443 }
users:
  - name: prod
    user: { token: secret }
contexts:
  - name: prod
    context: { cluster: prod, user: prod }
current-context: prod
`;

describe('kubeconfig merge', () => {
  it('adds kur entries, switches the context and keeps foreign entries', () => {
    const merged = parse(mergeKubeconfig(foreign, entry('kur-a', 40001))) as Record<string, unknown>;
    expect(merged['current-context']).to.equal('kur-a');
    const contexts = merged.contexts as { name: string }[];
    expect(contexts.map((c) => c.name)).to.deep.equal(['prod', 'kur-a']);
    const users = merged.users as { name: string; user: Record<string, string> }[];
    expect(users.find((u) => u.name === 'prod')?.user.token).to.equal('secret');
  });

  it('replaces an existing entry instead of duplicating it', () => {
    const twice = mergeKubeconfig(mergeKubeconfig(undefined, entry('kur-a', 1)), entry('kur-a', 2));
    const clusters = (parse(twice) as { clusters: { name: string; cluster: { server: string } }[] }).clusters;
    expect(clusters).to.have.length(1);
    expect(clusters[0]!.cluster.server).to.equal('https://127.0.0.1:2');
  });

  it('removes only the named entries and clears current-context only if it was ours', () => {
    const both = mergeKubeconfig(foreign, entry('kur-a', 1));
    const removed = parse(removeKubeconfigEntry(both, 'kur-a')) as Record<string, unknown>;
    expect(removed['current-context']).to.equal('');
    expect(hasKubeconfigEntry(stringifyBack(removed), 'kur-a')).to.equal(false);
    expect(hasKubeconfigEntry(stringifyBack(removed), 'prod')).to.equal(true);
    const keep = parse(removeKubeconfigEntry(foreign, 'kur-b')) as Record<string, unknown>;
    expect(keep['current-context']).to.equal('prod');
  });

  it('names the file when it is not YAML', () => {
    expect(() => mergeKubeconfig('a: [1', entry('kur-a', 1), '/home/u/.kube/config')).to.throw(
      /\/home\/u\/\.kube\/config is not valid YAML/,
    );
  });
});

function stringifyBack(value: Record<string, unknown>): string {
  return JSON.stringify(value);
}

describe('kubeconfig file', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kur-kubeconfig-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes mode 0600 and keeps concurrent updates', async () => {
    const path = join(dir, 'nested', 'config');
    await Promise.all(
      ['kur-a', 'kur-b', 'kur-c'].map((name, i) =>
        updateKubeconfigFile(path, (existing) => mergeKubeconfig(existing, entry(name, 1000 + i)), {
          pollMs: 5,
        }),
      ),
    );
    const text = await readFile(path, 'utf8');
    for (const name of ['kur-a', 'kur-b', 'kur-c']) expect(hasKubeconfigEntry(text, name)).to.equal(true);
    expect((await stat(path)).mode & 0o777).to.equal(0o600);
  });

  it('gives up on a held lock with a hint naming the lock file', async () => {
    const path = join(dir, 'config');
    await writeFile(`${path}.lock`, '');
    let failure: unknown;
    try {
      await updateKubeconfigFile(path, (e) => e ?? '', { timeoutMs: 50, pollMs: 10 });
    } catch (error) {
      failure = error;
    }
    expect((failure as { hint?: string }).hint).to.contain(`${path}.lock`);
  });
});
