import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { describeClusterEngines } from '../support/cluster-engines.js';
import type { CreateClusterResult } from '../../src/api/results.js';
import { networkPolicyAgent, nfqueueMissing, nfqueueProbe } from '../../src/kube/addons/index.js';
import { E2eRun } from '../support/clusters.js';
import { clusterObjects } from '../support/engine-objects.js';
import { lifecycle } from '../support/durability.js';
import { eventually } from '../support/eventually.js';
import type { Kubectl } from '../support/kubectl.js';
import { execIn, getPod, httpPort, httpServer, idlePod, pod, waitForPods } from '../support/workloads.js';

/**
 * The add-ons kur applies beside Flannel: the default StorageClass `standard` (local-path
 * volumes) and NetworkPolicy enforcement (kur's agent, images/go/netpol), on a control plane and one
 * worker so that volumes are bound where their pod runs and policies are tested across nodes.
 */
const volumeRoot = '/var/local-path-provisioner';

interface PvcJson {
  spec: { volumeName?: string; storageClassName?: string };
  status: { phase: string };
}
interface PvJson {
  spec: {
    hostPath?: { path: string };
    nodeAffinity?: { required: { nodeSelectorTerms: { matchExpressions: { values: string[] }[] }[] } };
  };
}

/** A pod that mounts claim `claim` at /data and runs `script` (busybox sh), scheduled normally. */
function volumePod(name: string, image: string, claim: string, script: string): object {
  const base = pod(name, image, { command: ['sh', '-c', script] }) as {
    spec: { containers: Record<string, unknown>[] } & Record<string, unknown>;
  };
  base.spec.containers[0]!.volumeMounts = [{ name: 'data', mountPath: '/data' }];
  base.spec.volumes = [{ name: 'data', persistentVolumeClaim: { claimName: claim } }];
  return base;
}

function claim(name: string): object {
  // No storageClassName: the default class must take it.
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name },
    spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '64Mi' } } },
  };
}

/** `nc` to host:port from a pod: the server's answer, or undefined when it cannot connect. */
async function tcpAnswer(
  kubectl: Kubectl,
  client: string,
  host: string,
  port: number,
): Promise<string | undefined> {
  const result = await execIn(
    kubectl,
    client,
    `printf 'GET / HTTP/1.0\\r\\n\\r\\n' | timeout 8 nc -w 3 ${host} ${port}`,
    30_000,
  );
  const body = result.stdout.trim().split(/\r?\n/).pop() ?? '';
  return result.code === 0 && body !== '' ? body : undefined;
}

describeClusterEngines('add-ons: default StorageClass and NetworkPolicy', (target) => {
  const run = new E2eRun(target, randomBytes(3).toString('hex'));
  const name = run.clusterName('addons');
  const controlPlane = `${name}-control-plane`;
  const worker = `${name}-worker`;
  let created: CreateClusterResult;
  let kubectl: Kubectl;
  let exported = false;

  before(async function () {
    this.timeout(20 * 60_000);
    await run.prepare();
    try {
      created = await run.createCluster(name, {
        config: [
          'apiVersion: kur.dev/v1alpha1',
          'kind: Cluster',
          'nodes:',
          '  - role: control-plane',
          '  - role: worker',
          '',
        ].join('\n'),
      });
    } catch (error) {
      if ((await clusterObjects(run.engine, name)).length > 0) await run.exportLogs(name, 'create failed');
      throw error;
    }
    kubectl = await run.kubectl(created);
    await run.loadTestImage(name);
  });

  afterEach(async function () {
    if (this.currentTest?.state === 'failed' && !exported) {
      exported = true;
      await run.exportLogs(name, `"${this.currentTest.title}" failed`);
    }
  });

  after(async function () {
    this.timeout(5 * 60_000);
    await run.cleanUp([name]);
  });

  const nodeExec = async (node: string, script: string) => {
    const result = await run.engine.containers.exec(node, { cmd: ['sh', '-c', script] });
    return { code: result.exitCode, out: `${result.stdout}${result.stderr}` };
  };

  describe('PersistentVolumeClaims', () => {
    const token = randomBytes(4).toString('hex');
    let volume: string;
    let volumeNode: string;
    let volumePath: string;

    /** The tests after the first use the volume it provisioned; when it failed, they cannot run. */
    function needVolume(test: Mocha.Context): void {
      if (volume !== undefined) return;
      console.log('      skipped: no provisioned volume (the dynamic-provisioning test above failed)');
      test.skip();
    }

    it('binds a claim of the default class `standard` when its first pod is scheduled, and the pod writes', async function () {
      this.timeout(5 * 60_000);
      const classes = await kubectl.json<{
        items: {
          metadata: { name: string; annotations?: Record<string, string> };
          volumeBindingMode: string;
        }[];
      }>(['get', 'storageclass']);
      const standard = classes.items.find((c) => c.metadata.name === 'standard');
      expect(standard?.metadata.annotations?.['storageclass.kubernetes.io/is-default-class']).to.equal(
        'true',
      );
      expect(standard?.volumeBindingMode).to.equal('WaitForFirstConsumer');

      await kubectl.apply([claim('data')]);
      // Nothing is provisioned before a pod needs the claim.
      expect((await kubectl.json<PvcJson>(['get', 'pvc', 'data'])).status.phase).to.equal('Pending');
      await kubectl.apply([
        volumePod('writer', run.image, 'data', `echo ${token} > /data/token && sync && exec sleep 3600`),
      ]);
      await waitForPods(kubectl, ['writer'], { timeoutSeconds: 240 });
      const pvc = await kubectl.json<PvcJson>(['get', 'pvc', 'data']);
      expect(pvc.status.phase).to.equal('Bound');
      expect(pvc.spec.storageClassName).to.equal('standard');
      volume = pvc.spec.volumeName!;
      const pv = await kubectl.json<PvJson>(['get', 'pv', volume]);
      volumePath = pv.spec.hostPath?.path ?? '';
      expect(volumePath.startsWith(`${volumeRoot}/`), volumePath).to.equal(true);
      // The volume is pinned to the node the writer runs on.
      volumeNode = (await getPod(kubectl, 'writer')).spec.nodeName!;
      expect(pv.spec.nodeAffinity?.required.nodeSelectorTerms[0]?.matchExpressions[0]?.values).to.deep.equal([
        volumeNode,
      ]);
      const onNode = await nodeExec(volumeNode, `cat ${volumePath}/token`);
      expect(onNode.out.trim()).to.equal(token);
    });

    it('keeps the data when the pod is deleted, for the next pod of the claim', async function () {
      this.timeout(5 * 60_000);
      needVolume(this);
      await kubectl.ok(['delete', 'pod', 'writer', '--wait=true', '--timeout=120s']);
      await kubectl.apply([volumePod('reader', run.image, 'data', 'cat /data/token && exec sleep 3600')]);
      await waitForPods(kubectl, ['reader'], { timeoutSeconds: 180 });
      expect((await getPod(kubectl, 'reader')).spec.nodeName).to.equal(volumeNode);
      const logs = await eventually('the reader’s output', 30_000, async () => {
        const out = (await kubectl.ok(['logs', 'reader'])).trim();
        return out === '' ? undefined : out;
      });
      expect(logs).to.equal(token);
    });

    it('keeps the data across kur stop cluster and kur start cluster', async function () {
      this.timeout(10 * 60_000);
      needVolume(this);
      await lifecycle(run, 'stop', name);
      await lifecycle(run, 'start', name);
      // The reader's container runs again after the start and prints the volume's token anew.
      await waitForPods(kubectl, ['reader'], { timeoutSeconds: 240 });
      const logs = await eventually('the reader’s output after the start', 60_000, async () => {
        const out = (await kubectl.ok(['logs', 'reader'])).trim();
        return out === '' ? undefined : out;
      });
      expect(logs).to.equal(token);
      expect((await nodeExec(volumeNode, `cat ${volumePath}/token`)).out.trim()).to.equal(token);
    });

    it('removes the volume and its directory when the claim is deleted', async function () {
      this.timeout(5 * 60_000);
      needVolume(this);
      await kubectl.ok(['delete', 'pod', 'reader', '--wait=true', '--timeout=120s']);
      await kubectl.ok(['delete', 'pvc', 'data', '--wait=true', '--timeout=120s']);
      await eventually('the PersistentVolume to be deleted', 120_000, async () => {
        const result = await kubectl.run(['get', 'pv', volume]);
        return result.code !== 0 && /NotFound/.test(result.stderr) ? true : undefined;
      });
      await eventually('the volume directory to be removed from the node', 60_000, async () => {
        const left = await nodeExec(volumeNode, `test -e ${volumePath} && echo present || echo gone`);
        return left.out.trim() === 'gone' ? true : undefined;
      });
    });
  });

  describe('NetworkPolicy', () => {
    let serverIp: string;
    let clusterIp: string;
    /** Why this host cannot enforce policies, when it cannot (the kernel cannot queue packets). */
    let unsupported: string | undefined;

    before(async function () {
      this.timeout(6 * 60_000);
      if (kubectl === undefined) throw new Error('no cluster (its create failed above)');
      // The agent queues new connections with iptables' NFQUEUE target: the probe kur runs too.
      const probe = await nodeExec(worker, nfqueueProbe);
      unsupported = nfqueueMissing(probe.code, probe.out);
      if (unsupported !== undefined) {
        process.stderr.write(
          `      (NetworkPolicy enforcement tests skipped on ${target.id}: ${unsupported})\n`,
        );
        return;
      }
      await kubectl.apply([
        httpServer('server', run.image, { node: worker, labels: { app: 'server' } }),
        idlePod('allowed', run.image, { node: controlPlane, labels: { role: 'allowed' } }),
        idlePod('other', run.image, { node: controlPlane, labels: { role: 'other' } }),
        {
          apiVersion: 'v1',
          kind: 'Service',
          metadata: { name: 'server' },
          spec: { selector: { app: 'server' }, ports: [{ port: httpPort, targetPort: httpPort }] },
        },
      ]);
      await waitForPods(kubectl, ['server', 'allowed', 'other']);
      serverIp = (await getPod(kubectl, 'server')).status.podIP!;
      clusterIp = (await kubectl.json<{ spec: { clusterIP: string } }>(['get', 'service', 'server'])).spec
        .clusterIP;
      await eventually('the NetworkPolicy agent on every node', 120_000, async () => {
        const ds = await kubectl.json<{ status: { numberReady: number; desiredNumberScheduled: number } }>([
          '-n',
          'kube-system',
          'get',
          'daemonset',
          networkPolicyAgent,
        ]);
        return ds.status.numberReady === 2 && ds.status.desiredNumberScheduled === 2 ? true : undefined;
      });
    });

    beforeEach(function () {
      if (unsupported !== undefined && this.currentTest?.title.startsWith('where the kernel') !== true)
        this.skip();
    });

    it('where the kernel cannot queue packets, leaves the controller out instead of enforcing nothing', async function () {
      if (unsupported === undefined) {
        console.log('      skipped: this kernel can queue packets from iptables, so the agent runs');
        this.skip();
      }
      const ds = await kubectl.run(['-n', 'kube-system', 'get', 'daemonset', networkPolicyAgent]);
      expect(ds.code).to.not.equal(0);
      expect(ds.stderr).to.include('NotFound');
    });

    const policy = (policyName: string, spec: object): object => ({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: policyName },
      spec,
    });
    const reaches = (client: string, host: string) => tcpAnswer(kubectl, client, host, httpPort);
    const expectBlocked = async (client: string, host: string) =>
      eventually(`${client} -> ${host} to be blocked`, 60_000, async () =>
        (await reaches(client, host)) === undefined ? true : undefined,
      );
    const expectReaches = async (client: string, host: string) =>
      eventually(`${client} -> ${host} to answer`, 60_000, () => reaches(client, host));

    it('lets everything through with no policy, across nodes', async function () {
      this.timeout(3 * 60_000);
      expect(await expectReaches('allowed', serverIp)).to.equal('server');
      expect(await expectReaches('other', serverIp)).to.equal('server');
    });

    it('blocks ingress to the server with a default-deny policy', async function () {
      this.timeout(3 * 60_000);
      await kubectl.apply([policy('deny-ingress', { podSelector: {}, policyTypes: ['Ingress'] })]);
      await expectBlocked('allowed', serverIp);
      await expectBlocked('other', serverIp);
    });

    it('lets exactly the labelled client through an allow rule (pod and namespace selector, port)', async function () {
      this.timeout(3 * 60_000);
      await kubectl.apply([
        policy('allow-labelled', {
          podSelector: { matchLabels: { app: 'server' } },
          policyTypes: ['Ingress'],
          ingress: [
            {
              from: [
                {
                  namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'default' } },
                  podSelector: { matchLabels: { role: 'allowed' } },
                },
              ],
              ports: [{ protocol: 'TCP', port: httpPort }],
            },
          ],
        }),
      ]);
      expect(await expectReaches('allowed', serverIp)).to.equal('server');
      await expectBlocked('other', serverIp);
    });

    it('restores traffic when the policies are removed', async function () {
      this.timeout(3 * 60_000);
      await kubectl.ok(['delete', 'networkpolicy', 'deny-ingress', 'allow-labelled']);
      expect(await expectReaches('other', serverIp)).to.equal('server');
    });

    it('blocks egress to a ClusterIP with an egress deny, and restores it when removed', async function () {
      this.timeout(3 * 60_000);
      expect(await expectReaches('other', clusterIp)).to.equal('server');
      await kubectl.apply([
        policy('deny-egress', { podSelector: { matchLabels: { role: 'other' } }, policyTypes: ['Egress'] }),
      ]);
      await expectBlocked('other', clusterIp);
      // The policy selects only `other`.
      expect(await expectReaches('allowed', clusterIp)).to.equal('server');
      await kubectl.ok(['delete', 'networkpolicy', 'deny-egress']);
      expect(await expectReaches('other', clusterIp)).to.equal('server');
    });
  });
});
