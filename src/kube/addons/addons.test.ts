import { expect } from 'chai';
import { parseAllDocuments } from 'yaml';
import { applyDefaults } from '../../config/defaults.js';
import { loadComponents } from '../../nodeimage/components.js';
import {
  addonRepositories,
  defaultStorageClassName,
  findAddonImages,
  localPathHelperPath,
  localPathManifest,
  localPathProvisionerName,
  localPathRoot,
  networkPolicyAgent,
  networkPolicyManifest,
  networkPolicyQueue,
  nfqueueMissing,
  nfqueueProbe,
  planAddons,
  type AddonImages,
} from './index.js';

/** A parsed manifest document, read through {@link at}. */
type Doc = Record<string, unknown>;

/** A nested value by dotted path (numbers index lists), for readable assertions. */
function at(value: unknown, path: string): unknown {
  return path.split('.').reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[k], value);
}
const str = (value: unknown, path: string): string => at(value, path) as string;
const list = <T = unknown>(value: unknown, path: string): T[] => at(value, path) as T[];

function docs(text: string): Doc[] {
  return parseAllDocuments(text).map((d) => {
    expect(d.errors).to.deep.equal([]);
    return d.toJS() as Doc;
  });
}

function one(all: Doc[], kind: string, name?: string): Doc {
  const found = all.filter((d) => d.kind === kind && (name === undefined || at(d, 'metadata.name') === name));
  expect(found, `${kind} ${name ?? ''}`).to.have.length(1);
  return found[0]!;
}

/** Every verb a role grants on a resource (any API group among `groups`). */
function verbs(role: Doc, groups: string[], resource: string): string[] {
  return list<Doc>(role, 'rules')
    .filter(
      (r) =>
        list<string>(r, 'apiGroups').some((g) => groups.includes(g)) &&
        list(r, 'resources').includes(resource),
    )
    .flatMap((r) => list<string>(r, 'verbs'));
}

const images: Required<AddonImages> = {
  localPathProvisioner: 'docker.io/rancher/local-path-provisioner:v0.0.30',
  localPathHelper: 'kur.local/local-path-helper:v0.1.0',
  networkPolicies: 'kur.local/netpol:v0.1.0',
};

describe('local-path storage manifest', () => {
  const all = docs(
    localPathManifest({
      provisionerImage: images.localPathProvisioner,
      helperImage: images.localPathHelper,
      apiServerEndpoint: 'c-control-plane:6443',
    }),
  );

  it('makes `standard` the default class, bound where the first pod runs, deleted with its claim', () => {
    const sc = one(all, 'StorageClass', defaultStorageClassName);
    expect(at(sc, 'metadata.annotations')).to.have.property(
      'storageclass.kubernetes.io/is-default-class',
      'true',
    );
    expect(sc['provisioner']).to.equal(localPathProvisionerName);
    expect(sc['volumeBindingMode']).to.equal('WaitForFirstConsumer');
    expect(sc['reclaimPolicy']).to.equal('Delete');
  });

  it('runs the preloaded provisioner with its config file, never pulling', () => {
    const deployment = one(all, 'Deployment', 'local-path-provisioner');
    const pod = at(deployment, 'spec.template.spec');
    const container = at(pod, 'containers.0');
    expect(at(container, 'image')).to.equal(images.localPathProvisioner);
    expect(at(container, 'imagePullPolicy')).to.equal('Never');
    const command = list<string>(container, 'command');
    expect(command).to.include('start');
    expect(command).to.include(`--provisioner-name=${localPathProvisionerName}`);
    expect(command).to.include(`--helper-image=${images.localPathHelper}`);
    const configArg = command.find((a) => a.startsWith('--config='))!;
    expect(configArg.startsWith(`--config=${str(container, 'volumeMounts.0.mountPath')}`)).to.equal(true);
    expect(at(pod, 'volumes.0.configMap.name')).to.equal('local-path-config');
    expect(list(container, 'env')).to.deep.include({
      name: 'KUBERNETES_SERVICE_HOST',
      value: 'c-control-plane',
    });
    expect(list(container, 'env')).to.deep.include({ name: 'KUBERNETES_SERVICE_PORT', value: '6443' });
    expect(at(pod, 'serviceAccountName')).to.equal('local-path-provisioner');
  });

  it('stores volumes under /var on every node and creates/removes them with kur`s helper, no shell', () => {
    const data = at(one(all, 'ConfigMap', 'local-path-config'), 'data') as Record<string, string>;
    const config = JSON.parse(data['config.json']!) as Doc;
    expect(config['nodePathMap']).to.deep.equal([
      { node: 'DEFAULT_PATH_FOR_NON_LISTED_NODES', paths: [localPathRoot] },
    ]);
    expect(localPathRoot.startsWith('/var/')).to.equal(true);
    expect(config['setupCommand']).to.equal(localPathHelperPath);
    expect(config['teardownCommand']).to.equal(localPathHelperPath);
    const helper = docs(data['helperPod.yaml']!)[0];
    // The provisioner reads the helper's logs from the container of this name.
    expect(at(helper, 'spec.containers.0')).to.include({
      name: 'helper-pod',
      image: images.localPathHelper,
      imagePullPolicy: 'Never',
    });
  });

  it('grants what the provisioner does: volumes and claims cluster-wide, helper pods in its namespace', () => {
    const role = one(all, 'ClusterRole');
    expect(verbs(role, [''], 'persistentvolumes')).to.include.members(['create', 'delete', 'watch', 'patch']);
    expect(verbs(role, [''], 'persistentvolumeclaims')).to.include.members(['watch', 'update']);
    expect(verbs(role, ['storage.k8s.io'], 'storageclasses')).to.include('watch');
    expect(verbs(role, [''], 'nodes')).to.include('get');
    expect(verbs(role, [''], 'events')).to.include('create');
    expect(verbs(role, [''], 'pods')).to.deep.equal([]);
    const local = one(all, 'Role');
    expect(at(local, 'metadata.namespace')).to.equal('local-path-storage');
    expect(verbs(local, [''], 'pods')).to.include.members(['create', 'delete', 'get']);
    expect(verbs(local, [''], 'pods/log')).to.deep.equal(['get']);
    expect(verbs(local, [''], 'configmaps')).to.include('get');
    const binding = one(all, 'ClusterRoleBinding');
    expect(at(binding, 'roleRef.name')).to.equal(at(role, 'metadata.name'));
    expect(binding['subjects']).to.deep.equal([
      { kind: 'ServiceAccount', name: 'local-path-provisioner', namespace: 'local-path-storage' },
    ]);
    expect(at(one(all, 'RoleBinding'), 'roleRef.name')).to.equal(at(local, 'metadata.name'));
  });

  it('lets helper pods mount host paths (pod security level privileged)', () => {
    const ns = one(all, 'Namespace', 'local-path-storage');
    expect(at(ns, 'metadata.labels')).to.have.property('pod-security.kubernetes.io/enforce', 'privileged');
  });
});

describe('network policy manifest', () => {
  const all = docs(
    networkPolicyManifest({
      image: images.networkPolicies,
      apiServerEndpoint: '10.0.0.2:6443',
      podSubnet: '10.244.0.0/16',
    }),
  );

  it('runs the agent on every node, on the host network, from the preloaded image', () => {
    const pod = at(one(all, 'DaemonSet', networkPolicyAgent), 'spec.template.spec');
    expect(at(pod, 'hostNetwork')).to.equal(true);
    expect(at(pod, 'tolerations')).to.deep.equal([{ operator: 'Exists' }]);
    const container = at(pod, 'containers.0');
    expect(at(container, 'image')).to.equal(images.networkPolicies);
    expect(at(container, 'imagePullPolicy')).to.equal('Never');
    expect(list<string>(container, 'command')).to.deep.equal([
      '/usr/local/bin/netpol',
      '-node=$(NODE_NAME)',
      `-queue=${networkPolicyQueue}`,
      '-cluster-cidr=10.244.0.0/16',
    ]);
    expect(list(container, 'env')).to.deep.include({
      name: 'NODE_NAME',
      valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } },
    });
    expect(list(container, 'securityContext.capabilities.add')).to.include('NET_ADMIN');
    // The node's iptables lock, so its rule changes do not race kube-proxy's and Flannel's.
    expect(list(container, 'volumeMounts')).to.deep.include({
      name: 'xtables-lock',
      mountPath: '/run/xtables.lock',
    });
    expect(list(pod, 'volumes')).to.deep.include({
      name: 'xtables-lock',
      hostPath: { path: '/run/xtables.lock', type: 'FileOrCreate' },
    });
  });

  it('can read pods, namespaces and policies, and write nothing but events', () => {
    const role = one(all, 'ClusterRole');
    expect(verbs(role, [''], 'pods')).to.deep.equal(['list', 'watch']);
    expect(verbs(role, [''], 'namespaces')).to.deep.equal(['list', 'watch']);
    expect(verbs(role, [''], 'nodes')).to.deep.equal(['get']);
    expect(verbs(role, ['networking.k8s.io'], 'networkpolicies')).to.deep.equal(['list', 'watch']);
    const writes = list<Doc>(role, 'rules').filter((r) =>
      list<string>(r, 'verbs').some((v) => ['create', 'update', 'patch', 'delete'].includes(v)),
    );
    expect(writes.flatMap((r) => list<string>(r, 'resources'))).to.deep.equal(['events']);
    expect(at(one(all, 'ClusterRoleBinding'), 'subjects.0')).to.include({ namespace: 'kube-system' });
  });
});

describe('planAddons', () => {
  const endpoint = 'kur-control-plane:6443';
  const kinds = (text: string | undefined) =>
    docs(text ?? '').map((d) => `${str(d, 'kind')}/${str(d, 'metadata.name')}`);

  it('installs both by default, as one stream', () => {
    const plan = planAddons(applyDefaults({}), images, endpoint);
    expect(plan.installed).to.deep.equal(['storage', 'network-policy']);
    expect(plan.missing).to.deep.equal([]);
    expect(kinds(plan.manifest)).to.include.members([
      'StorageClass/standard',
      'Deployment/local-path-provisioner',
      `DaemonSet/${networkPolicyAgent}`,
    ]);
  });

  it('leaves out what the config switches off', () => {
    const noPolicy = planAddons(applyDefaults({ networking: { networkPolicy: false } }), images, endpoint);
    expect(noPolicy.installed).to.deep.equal(['storage']);
    expect(kinds(noPolicy.manifest)).to.not.include(`DaemonSet/${networkPolicyAgent}`);
    const noStorage = planAddons(
      applyDefaults({ storage: { defaultStorageClass: false } }),
      images,
      endpoint,
    );
    expect(noStorage.installed).to.deep.equal(['network-policy']);
    expect(kinds(noStorage.manifest)).to.not.include('StorageClass/standard');
    const none = planAddons(
      applyDefaults({ storage: { defaultStorageClass: false }, networking: { networkPolicy: false } }),
      images,
      endpoint,
    );
    expect(none.manifest).to.equal(undefined);
  });

  it('says what an older node image cannot run instead of applying pods that never start', () => {
    const plan = planAddons(applyDefaults({}), { networkPolicies: images.networkPolicies }, endpoint);
    expect(plan.installed).to.deep.equal(['network-policy']);
    expect(plan.missing).to.have.length(1);
    expect(plan.missing[0]!.addon).to.equal('storage');
    expect(plan.missing[0]!.reason).to.include('kur build node-image');
  });
});

describe('planAddons on a kernel that cannot queue packets', () => {
  it('leaves the policy controller out and says why, keeping storage', () => {
    const plan = planAddons(applyDefaults({}), images, 'kur-control-plane:6443', {
      networkPolicyUnsupported: 'the host kernel cannot queue packets from iptables',
    });
    expect(plan.installed).to.deep.equal(['storage']);
    expect(plan.missing).to.have.length(1);
    expect(plan.missing[0]!.reason).to.include('will not be enforced').and.include('networkPolicy: false');
    expect(plan.manifest).to.not.include(networkPolicyAgent);
  });
});

describe('nfqueueMissing', () => {
  it('reads the probe: works, no NFQUEUE target, no nfnetlink_queue', () => {
    expect(nfqueueMissing(0, '')).to.equal(undefined);
    expect(
      nfqueueMissing(
        1,
        "target: iptables v1.8.9 (nf_tables): Couldn't load target `NFQUEUE':No such file or directory\n",
      ),
    )
      .to.include('NFQUEUE target')
      .and.include("Couldn't load target `NFQUEUE'");
    expect(nfqueueMissing(1, 'queue: no nfnetlink_queue\n')).to.include('nfnetlink_queue');
    expect(nfqueueMissing(126, 'sh: iptables: not found')).to.include('exit 126').and.include('not found');
  });

  it('removes its probe chain whatever happens, and before it starts', () => {
    const lines = nfqueueProbe.split('\n');
    expect(lines[0]).to.include('-X KUR-NFQUEUE-PROBE');
    expect(lines.filter((l) => l.includes('-X KUR-NFQUEUE-PROBE'))).to.have.length(2);
    expect(nfqueueProbe).to.include('-j NFQUEUE --queue-num 65000 --queue-bypass');
  });
});

describe('findAddonImages', () => {
  it('finds each add-on image by repository among the preloaded images', () => {
    expect(
      findAddonImages([
        'registry.k8s.io/pause:3.10.2',
        'docker.io/rancher/local-path-provisioner:v0.0.30',
        'kur.local/local-path-helper:v0.1.0',
      ]),
    ).to.deep.equal({
      localPathProvisioner: 'docker.io/rancher/local-path-provisioner:v0.0.30',
      localPathHelper: 'kur.local/local-path-helper:v0.1.0',
    });
  });

  it('matches the images images/components.json preloads, one each', () => {
    const names = loadComponents().images.map((i) => i.name);
    const found = findAddonImages(names);
    expect(Object.keys(found).sort()).to.deep.equal(Object.keys(addonRepositories).sort());
    for (const repository of Object.values(addonRepositories)) {
      expect(names.filter((n) => n.startsWith(`${repository}:`))).to.have.length(1);
    }
  });

  it('runs the helper binary the helper image holds, at the path the provisioner config names', () => {
    const helper = loadComponents().images.find((i) =>
      i.name.startsWith(`${addonRepositories.localPathHelper}:`),
    )!;
    expect(helper.binaries[localPathHelperPath]).to.equal('local-path-helper');
  });

  it('gives the NetworkPolicy agent its binary and iptables', () => {
    const agent = loadComponents().images.find((i) =>
      i.name.startsWith(`${addonRepositories.networkPolicies}:`),
    )!;
    expect(agent.binaries['/usr/local/bin/netpol']).to.equal('netpol');
    expect(agent.debianPackages).to.include('iptables');
  });
});
