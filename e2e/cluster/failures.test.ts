import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { expect } from 'chai';
import { describeClusterEngines } from '../support/cluster-engines.js';
import {
  clusterObjects,
  clustersOnEngine,
  clusterVolumeNames,
  kurNetworkExists,
  remainingVolumes,
} from '../support/engine-objects.js';
import { describeRun, startKur } from '../support/kur-cli.js';
import { E2eRun } from '../support/clusters.js';
import { kubeconfigEntries } from '../support/kubeconfig-file.js';

/** Invalid configs: each must fail before anything exists, naming file, line and column. */
const invalidConfigs: { title: string; text: string; expect: (path: string) => RegExp }[] = [
  {
    title: 'an unknown field',
    text: [
      'apiVersion: kur.dev/v1alpha1',
      'kind: Cluster',
      'nodes:',
      '  - role: control-plane',
      '    extraPortMapping:',
      '      - containerPort: 80',
      '',
    ].join('\n'),
    expect: (path) =>
      new RegExp(`^ERROR: ${escape(path)}:5:5: nodes\\[0\\]\\.extraPortMapping: unknown field`, 'm'),
  },
  {
    title: 'a host port used twice',
    text: [
      'apiVersion: kur.dev/v1alpha1',
      'kind: Cluster',
      'nodes:',
      '  - role: control-plane',
      '    extraPortMappings:',
      '      - containerPort: 80',
      '        hostPort: 18080',
      '  - role: worker',
      '    extraPortMappings:',
      '      - containerPort: 81',
      '        hostPort: 18080',
      '',
    ].join('\n'),
    expect: (path) =>
      new RegExp(`^ERROR: ${escape(path)}:11:19: nodes\\[1\\]\\.extraPortMappings\\[0\\]\\.hostPort`, 'm'),
  },
  {
    title: 'broken YAML',
    text: [
      'apiVersion: kur.dev/v1alpha1',
      'kind: Cluster',
      'nodes:',
      '  - role: control-plane',
      ' bad: [',
      '',
    ].join('\n'),
    expect: (path) => new RegExp(`^ERROR: ${escape(path)}:5:\\d+: .*invalid YAML`, 'm'),
  },
  {
    title: 'a JSON 6902 kubeadm patch on a path that does not exist',
    text: [
      'apiVersion: kur.dev/v1alpha1',
      'kind: Cluster',
      'kubeadmConfigPatchesJSON6902:',
      '  - kind: ClusterConfiguration',
      '    patch: |',
      '      - op: remove',
      '        path: /no/such/thing',
      '',
    ].join('\n'),
    expect: (path) =>
      new RegExp(
        `^ERROR: ${escape(path)}:7:15: kubeadmConfigPatchesJSON6902\\[0\\]\\.patch: operation 0 \\(remove /no/such/thing\\): ClusterConfiguration has no field "no"`,
        'm',
      ),
  },
  {
    title: 'a typo in a kubeadm patch field',
    text: [
      'apiVersion: kur.dev/v1alpha1',
      'kind: Cluster',
      'kubeadmConfigPatches:',
      '  - |',
      '    kind: ClusterConfiguration',
      '    apiServerr:',
      '      certSANs: [a.example]',
      '',
    ].join('\n'),
    expect: (path) =>
      new RegExp(
        `^ERROR: ${escape(path)}:6:5: kubeadmConfigPatches\\[0\\]: ClusterConfiguration has no field "apiServerr"`,
        'm',
      ),
  },
  {
    title: 'a relative hostPath that does not exist (kur must not create it)',
    text: [
      'kind: Cluster',
      'apiVersion: kind.x-k8s.io/v1alpha4',
      'nodes:',
      '  - role: control-plane',
      '    extraMounts:',
      '      - hostPath: ./not-created',
      '        containerPath: /data',
      '---',
      '',
    ].join('\n'),
    expect: (path) =>
      new RegExp(
        `^ERROR: ${escape(path)}:6:19: nodes\\[0\\]\\.extraMounts\\[0\\]\\.hostPath: "\\./not-created" \\(resolved: ${escape(dirname(path))}/not-created\\) does not exist`,
        'm',
      ),
  },
  {
    title: 'an empty node list',
    text: ['apiVersion: kur.dev/v1alpha1', 'kind: Cluster', 'nodes: []', ''].join('\n'),
    expect: (path) => new RegExp(`^ERROR: ${escape(path)}:3:8: nodes: is empty`, 'm'),
  },
];

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

const twoNodes = [
  'apiVersion: kur.dev/v1alpha1',
  'kind: Cluster',
  'nodes:',
  '  - role: control-plane',
  '  - role: worker',
  '',
].join('\n');

/** Creates interrupted once their progress (`-v`: plain lines) shows them in a given phase. */
const interruptions: { title: string; marker: RegExp; delayMs: number; signal: NodeJS.Signals }[] = [
  { title: 'while node containers boot (SIGINT)', marker: /booting systemd/, delayMs: 0, signal: 'SIGINT' },
  {
    title: 'during kubeadm init (SIGINT)',
    marker: /Start the control plane/,
    delayMs: 3000,
    signal: 'SIGINT',
  },
  { title: 'while a worker joins (SIGTERM)', marker: /Join nodes/, delayMs: 1000, signal: 'SIGTERM' },
];

describeClusterEngines('failed and interrupted creates', (target) => {
  const run = new E2eRun(target, randomBytes(3).toString('hex'));
  const names: string[] = [];

  before(async function () {
    this.timeout(5 * 60_000);
    await run.prepare();
  });

  after(async function () {
    this.timeout(10 * 60_000);
    await run.cleanUp(names);
  });

  invalidConfigs.forEach((config, i) => {
    it(`rejects a config with ${config.title}, naming file:line:column, and creates nothing`, async () => {
      const name = run.clusterName(`bad${i}`);
      names.push(name);
      const networkBefore = await kurNetworkExists(run.engine);
      const path = run.writeConfig(name, config.text);
      const home = run.home; // made by the first run; kur must not write into it either
      const filesBefore = readdirSync(run.dir).sort();
      const homeBefore = readdirSync(home, { recursive: true }).sort();
      const result = await run.kur([
        'create',
        'cluster',
        '--name',
        name,
        '--config',
        path,
        '--kubeconfig',
        run.kubeconfigPath(name),
      ]);
      expect(result.code, describeRun(result)).to.equal(3);
      expect(result.stderr).to.match(config.expect(path));
      expect(result.stdout).to.equal('');
      expect(await clusterObjects(run.engine, name)).to.deep.equal([]);
      expect(existsSync(run.kubeconfigPath(name)), 'kubeconfig file').to.equal(false);
      expect(await kurNetworkExists(run.engine)).to.equal(networkBefore);
      // The host is unchanged: no host path made, no kubeconfig or lock file written.
      expect(readdirSync(run.dir).sort(), 'files next to the config').to.deep.equal(filesBefore);
      expect(readdirSync(home, { recursive: true }).sort(), 'files in HOME').to.deep.equal(homeBefore);
    });
  });

  const badKubeconfigs = [
    {
      title: 'a file that is not a kubeconfig',
      code: 3,
      content: 'this: [is not, a kubeconfig\n',
      lock: false,
    },
    { title: 'a lock left by a process that has exited', code: 7, content: undefined, lock: true },
  ];
  for (const bad of badKubeconfigs) {
    it(`refuses a --kubeconfig target with ${bad.title} within seconds, and creates nothing`, async () => {
      const name = run.clusterName(`kc${names.length}`);
      names.push(name);
      const path = run.kubeconfigPath(name);
      if (bad.content !== undefined) writeFileSync(path, bad.content);
      // A PID no process has: the lock's holder is gone.
      if (bad.lock) writeFileSync(`${path}.lock`, `2147483646 ${hostname()}\n`);
      const started = Date.now();
      const result = await run.kur(['create', 'cluster', '--name', name, '--kubeconfig', path]);
      expect(result.code, describeRun(result)).to.equal(bad.code);
      expect(result.stderr).to.include(path);
      expect(Date.now() - started, 'refused before any node starts').to.be.below(15_000);
      expect(await clusterObjects(run.engine, name)).to.deep.equal([]);
    });
  }

  for (const interruption of interruptions) {
    it(`leaves nothing behind when a create is interrupted ${interruption.title}`, async function () {
      this.timeout(10 * 60_000);
      const name = run.clusterName(`int${names.length}`);
      names.push(name);
      const networkBefore = await kurNetworkExists(run.engine);
      const kubeconfig = run.kubeconfigPath(name);
      const create = startKur(run, [
        '-v',
        'create',
        'cluster',
        '--name',
        name,
        '--config',
        run.writeConfig(name, twoNodes),
        '--kubeconfig',
        kubeconfig,
      ]);
      try {
        await create.waitForOutput(interruption.marker, 5 * 60_000);
        await new Promise((resolve) => setTimeout(resolve, interruption.delayMs));
        // Something of the cluster exists at this point, or the interruption proves nothing.
        expect(await clusterObjects(run.engine, name), 'objects before the signal').to.not.deep.equal([]);
      } catch (error) {
        // Stop a create that never reached the phase (it rolls back on SIGINT) before failing.
        if (create.child.exitCode === null) create.child.kill('SIGINT');
        await create.done;
        throw error;
      }
      const volumes = await clusterVolumeNames(run.engine, name);
      create.child.kill(interruption.signal);
      const result = await create.done;
      expect(result.code, describeRun(result)).to.equal(130);
      expect(result.stderr).to.match(/interrupted/);
      expect(await clusterObjects(run.engine, name), `left after kur: ${describeRun(result)}`).to.deep.equal(
        [],
      );
      expect(kubeconfigEntries(kubeconfig, `kur-${name}`)).to.deep.equal([]);
      // Nothing turns up late either (a container create in flight when the signal came).
      await new Promise((resolve) => setTimeout(resolve, 5000));
      expect(await clusterObjects(run.engine, name), 'objects 5 s later').to.deep.equal([]);
      expect(await remainingVolumes(run.engine, volumes), 'node volumes').to.deep.equal([]);
      if (!networkBefore && (await clustersOnEngine(run.engine)).length === 0) {
        expect(await kurNetworkExists(run.engine), 'the kur network this create made').to.equal(false);
      }
    });
  }
});
