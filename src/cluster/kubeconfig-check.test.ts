import { expect } from 'chai';
import { isKurError } from '../util/errors.js';
import type { KurError } from '../util/errors.js';
import type { KubeconfigCheckHost } from './kubeconfig-check.js';
import { checkKubeconfigTarget } from './kubeconfig-check.js';

const now = 1_000_000_000;

/** A host of files (path -> text), directories, unwritable paths and running PIDs. */
function host(options: {
  files?: Record<string, string>;
  dirs?: string[];
  readOnly?: string[];
  running?: number[];
  mtimeMs?: number;
}): KubeconfigCheckHost {
  const files = options.files ?? {};
  const dirs = new Set(['/', '/home', '/home/u', '/home/u/.kube', ...(options.dirs ?? [])]);
  return {
    readFile: (path) => Promise.resolve(files[path]),
    stat: (path) =>
      Promise.resolve(
        dirs.has(path)
          ? { isDirectory: true, mtimeMs: now }
          : path in files
            ? { isDirectory: false, mtimeMs: options.mtimeMs ?? now }
            : undefined,
      ),
    writable: (path) => Promise.resolve(!(options.readOnly ?? []).includes(path)),
    processAlive: (pid) => (options.running ?? []).includes(pid),
    now: () => now,
    hostname: 'here',
  };
}

async function failure(run: Promise<unknown>): Promise<KurError> {
  try {
    await run;
  } catch (error) {
    if (isKurError(error)) return error;
    throw error;
  }
  throw new Error('expected a KurError');
}

const path = '/home/u/.kube/config';
const kubeconfig = 'apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\n';

describe('checkKubeconfigTarget (before anything is created)', () => {
  it('accepts a missing file in a writable directory, an empty file and a real kubeconfig', async () => {
    expect(await checkKubeconfigTarget('/home/u/new/dir/kubeconfig', host({}))).to.deep.equal({
      path: '/home/u/new/dir/kubeconfig',
      exists: false,
      lock: undefined,
    });
    expect((await checkKubeconfigTarget(path, host({ files: { [path]: '' } }))).exists).to.equal(true);
    expect((await checkKubeconfigTarget(path, host({ files: { [path]: kubeconfig } }))).lock).to.equal(
      undefined,
    );
  });

  const bad: { title: string; text: string; message: RegExp }[] = [
    {
      title: 'garbage',
      text: 'this is: not: yaml: [',
      message: /^\/home\/u\/\.kube\/config:1:\d+: not a kubeconfig: invalid YAML/,
    },
    { title: 'a list', text: '- a\n- b\n', message: /:1:1: not a kubeconfig: expected a mapping/ },
    {
      title: 'another kind',
      text: 'apiVersion: v1\nkind: Pod\n',
      message: /:2:7: not a kubeconfig: kind must be Config/,
    },
    {
      title: 'clusters not a list',
      text: 'kind: Config\nclusters: {a: 1}\n',
      message: /:2:11: not a kubeconfig: clusters must be a list/,
    },
    { title: 'binary bytes', text: '\u0000\u0001\u0002', message: /not a kubeconfig/ },
  ];
  for (const c of bad) {
    it(`refuses a kubeconfig that is ${c.title} (config, exit 3), naming line and column`, async () => {
      const error = await failure(checkKubeconfigTarget(path, host({ files: { [path]: c.text } })));
      expect(error.exitCode).to.equal(3);
      expect(error.message).to.match(c.message);
      expect(error.hint).to.match(/move it away, or point --kubeconfig at another file/);
    });
  }

  it('refuses a directory, a read-only file, and a directory it cannot write (config, exit 3)', async () => {
    const dir = await failure(checkKubeconfigTarget('/home/u/.kube', host({})));
    expect(dir.message).to.equal('kubeconfig /home/u/.kube is a directory');
    const file = await failure(
      checkKubeconfigTarget(path, host({ files: { [path]: kubeconfig }, readOnly: [path] })),
    );
    expect([file.exitCode, file.message]).to.deep.equal([3, `kubeconfig ${path} is not writable`]);
    const parent = await failure(
      checkKubeconfigTarget('/home/u/.kube/a/b/config', host({ readOnly: ['/home/u/.kube'] })),
    );
    expect(parent.message).to.equal(
      'cannot write kubeconfig /home/u/.kube/a/b/config: directory /home/u/.kube is not writable',
    );
    const notDir = await failure(
      checkKubeconfigTarget('/home/u/file/config', host({ files: { '/home/u/file': 'x' } })),
    );
    expect(notDir.message).to.match(/\/home\/u\/file is not a directory/);
  });

  it('refuses a stale lock (its process exited, or an empty one minutes old) with how to clear it (conflict, exit 7)', async () => {
    const dead = await failure(
      checkKubeconfigTarget(path, host({ files: { [path]: kubeconfig, [`${path}.lock`]: '4242 here\n' } })),
    );
    expect([dead.exitCode, dead.message]).to.deep.equal([
      7,
      `kubeconfig lock ${path}.lock is stale: process 4242 that took it has exited`,
    ]);
    expect(dead.hint).to.equal(
      `No process holds it any more: remove it (rm ${path}.lock) and run kur again.`,
    );
    const old = await failure(
      checkKubeconfigTarget(path, host({ files: { [`${path}.lock`]: '' }, mtimeMs: now - 156_000 })),
    );
    expect(old.message).to.match(/is stale: it names no process and is 156 s old/);
  });

  it('reports a lock a live process holds without refusing it (kur waits for it later)', async () => {
    const live = await checkKubeconfigTarget(
      path,
      host({ files: { [`${path}.lock`]: '77 here' }, running: [77] }),
    );
    expect(live.lock).to.deep.equal({
      path: `${path}.lock`,
      state: 'live',
      reason: 'process 77 that took it is running',
    });
    const young = await checkKubeconfigTarget(
      path,
      host({ files: { [`${path}.lock`]: '' }, mtimeMs: now - 2000 }),
    );
    expect(young.lock?.state).to.equal('live');
    const remote = await checkKubeconfigTarget(path, host({ files: { [`${path}.lock`]: '77 elsewhere' } }));
    expect(remote.lock?.reason).to.match(/on elsewhere, which kur cannot check/);
  });
});
