import { kubeadmConfigFile, type ClusterPlan } from '../../kube/plan.js';
import { caCertHash } from '../../kube/tokens.js';
import { nodePaths } from '../../node/layout.js';
import { clusterDnsIp } from '../dns-probe.js';
import { applyManifest, bootstrapNode, kubeadmInit, kubeadmJoin, waitUntilReady } from '../bootstrap.js';
import type { ClusterClaim } from '../claim.js';
import { readFile, writeFiles } from '../node-ops.js';
import type { CreateRun } from './context.js';
import type { Phase } from '../../ui/phases.js';

type Bootstrapping = {
  plan: ClusterPlan;
  claim: ClusterClaim;
  certificateKey: string | undefined;
};

function secrets(input: Bootstrapping, run: CreateRun, nodeName: string) {
  return {
    nodeIP: input.claim.addresses[nodeName] ?? '',
    token: run.token,
    ...(input.certificateKey !== undefined ? { certificateKey: input.certificateKey } : {}),
  };
}

export const controlPlanePhase: Phase<CreateRun, Bootstrapping, object> = {
  id: 'control-plane',
  title: 'Start the control plane',
  run: async (input, run) => {
    const { plan } = input;
    const node = bootstrapNode(plan);
    await writeFiles(run.engine, node, [kubeadmConfigFile(plan, node.name, secrets(input, run, node.name))]);
    await kubeadmInit(run.engine, node, input.certificateKey !== undefined);
    return {};
  },
};

export const podNetworkPhase: Phase<CreateRun, { plan: ClusterPlan }, object> = {
  id: 'pod-network',
  title: 'Install the pod network (Flannel VXLAN)',
  skip: ({ plan }) => (plan.cni === 'none' ? 'disableDefaultCNI is set' : false),
  run: async ({ plan }, run) => {
    await applyManifest(run.engine, bootstrapNode(plan), nodePaths.flannelManifest);
    return {};
  },
};

/** Control planes join one at a time (etcd membership changes are serial); workers together. */
export const joinPhase: Phase<CreateRun, Bootstrapping, object> = {
  id: 'join',
  title: 'Join nodes',
  skip: ({ plan }) => (plan.nodes.length === 1 ? 'a single node' : false),
  run: async (input, run, step) => {
    const { plan } = input;
    const hash = caCertHash(await readFile(run.engine, bootstrapNode(plan), nodePaths.caCertificate));
    const joining = plan.nodes.filter((n) => !n.bootstrap);
    const join = (name: string) => ({
      id: name,
      title: name,
      run: async () => {
        const node = plan.nodes.find((n) => n.name === name)!;
        const file = kubeadmConfigFile(plan, name, { ...secrets(input, run, name), caCertHashes: [hash] });
        await writeFiles(run.engine, node, [file]);
        await kubeadmJoin(run.engine, node);
      },
    });
    const controlPlanes = joining.filter((n) => n.role === 'control-plane');
    if (controlPlanes.length > 0) await step.children(controlPlanes.map((n) => join(n.name)));
    const workers = joining.filter((n) => n.role !== 'control-plane');
    await step.children(
      workers.map((n) => join(n.name)),
      { concurrent: true },
    );
    return {};
  },
};

export const waitPhase: Phase<CreateRun, { plan: ClusterPlan }, object> = {
  id: 'wait',
  title: 'Wait for nodes and DNS',
  skip: (_input, run) => (run.waitMs === 0 ? '--wait 0' : false),
  run: async ({ plan }, run, step) => {
    await waitUntilReady(run.engine, bootstrapNode(plan), {
      expectedNodes: plan.nodes.map((n) => n.name),
      dnsServer: clusterDnsIp(plan.config.networking.serviceSubnet),
      timeoutMs: run.waitMs,
      signal: run.signal,
      logger: run.logger,
      onStatus: (text) => step.status(text),
    });
    return {};
  },
};
