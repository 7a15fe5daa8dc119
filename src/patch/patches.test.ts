import { expect } from 'chai';
import { applyJsonPatch, parseJsonPatch } from './json-patch.js';
import type { JsonObject, JsonValue } from './json.js';
import { PatchError } from './json.js';
import { applyKubeadmPatches, parseKubeadmMergePatch } from './kubeadm-patches.js';
import { kubeadmMergePatch, mergePatch } from './merge-patch.js';
import { applyContainerdPatches, parseTomlPatch } from './toml-patch.js';

function patchError(run: () => unknown): PatchError {
  try {
    run();
  } catch (error) {
    if (error instanceof PatchError) return error;
    throw error;
  }
  throw new Error('expected a PatchError');
}

describe('RFC 6902 JSON patch', () => {
  const doc: JsonValue = { a: { 'b/c': 1, 'd~e': 2 }, list: [1, 2, 3] };

  it('applies every operation, with ~0/~1 escapes and the - index', () => {
    const ops = parseJsonPatch(`
- {op: add, path: /list/-, value: 4}
- {op: add, path: /list/0, value: 0}
- {op: remove, path: /a/b~1c}
- {op: replace, path: /a/d~0e, value: 20}
- {op: copy, from: /a/d~0e, path: /copied}
- {op: move, from: /list/1, path: /moved}
- {op: test, path: /moved, value: 1}
`);
    expect(applyJsonPatch(doc, ops)).to.deep.equal({
      a: { 'd~e': 20 },
      list: [0, 2, 3, 4],
      copied: 20,
      moved: 1,
    });
    // The input is not mutated.
    expect(doc).to.deep.equal({ a: { 'b/c': 1, 'd~e': 2 }, list: [1, 2, 3] });
  });

  it('fails on a failed test, a missing path and an index out of range', () => {
    expect(
      patchError(() => applyJsonPatch(doc, parseJsonPatch('[{"op":"test","path":"/a/d~0e","value":3}]')))
        .message,
    ).to.match(/test failed/);
    expect(
      patchError(() => applyJsonPatch(doc, parseJsonPatch('[{"op":"remove","path":"/nope"}]'))).message,
    ).to.match(/path not found/);
    expect(
      patchError(() => applyJsonPatch(doc, parseJsonPatch('[{"op":"add","path":"/list/9","value":1}]')))
        .message,
    ).to.match(/out of range/);
    expect(
      patchError(() => applyJsonPatch(doc, parseJsonPatch('[{"op":"move","from":"/a","path":"/a/x"}]')))
        .message,
    ).to.match(/into itself/);
  });

  it('rejects malformed operations with the position of YAML errors', () => {
    expect(patchError(() => parseJsonPatch('op: add')).message).to.match(/must be a list/);
    expect(patchError(() => parseJsonPatch('- {op: add, path: /a}')).message).to.match(/add needs a value/);
    expect(patchError(() => parseJsonPatch('- {op: add, path: a, value: 1}')).message).to.match(
      /not a JSON pointer/,
    );
    expect(patchError(() => parseJsonPatch('- {op: add, path: /a, value: 1, extra: 2}')).message).to.match(
      /unknown field "extra"/,
    );
    expect(patchError(() => parseJsonPatch('- op: add\n  path: [\n')).position).to.deep.equal({
      line: 3,
      col: 1,
    });
  });
});

describe('merge patches', () => {
  it('RFC 7386: objects merge, null deletes, lists replace', () => {
    expect(
      mergePatch({ a: 1, b: { c: 2, d: 3 }, l: [1, 2] }, { b: { c: null, e: 4 }, l: [9], f: 'x' }),
    ).to.deep.equal({
      a: 1,
      b: { d: 3, e: 4 },
      l: [9],
      f: 'x',
    });
  });

  it('kubeadm-aware: extraArgs merge by name (list or map form), null removes, certSANs union', () => {
    const target = {
      apiServer: {
        certSANs: ['localhost', 'a'],
        extraArgs: [
          { name: 'v', value: '1' },
          { name: 'keep', value: 'y' },
        ],
      },
      nodeRegistration: { kubeletExtraArgs: [{ name: 'node-ip', value: '10.0.0.2' }] },
    };
    const patched = kubeadmMergePatch(target, {
      apiServer: {
        certSANs: ['a', 'b'],
        extraArgs: [
          { name: 'v', value: '4' },
          { name: 'new', value: 'z' },
        ],
      },
      nodeRegistration: { kubeletExtraArgs: { 'node-labels': 'x=y', 'node-ip': null } },
    });
    expect(patched).to.deep.equal({
      apiServer: {
        certSANs: ['localhost', 'a', 'b'],
        extraArgs: [
          { name: 'v', value: '4' },
          { name: 'keep', value: 'y' },
          { name: 'new', value: 'z' },
        ],
      },
      nodeRegistration: { kubeletExtraArgs: [{ name: 'node-labels', value: 'x=y' }] },
    });
  });

  it('applies kubeadm patches only to documents of their kind and apiVersion, merge then JSON', () => {
    const docs: JsonObject[] = [
      { apiVersion: 'kubeadm.k8s.io/v1beta4', kind: 'ClusterConfiguration', clusterName: 'a' },
      { apiVersion: 'kubelet.config.k8s.io/v1beta1', kind: 'KubeletConfiguration', maxPods: 110 },
    ];
    const out = applyKubeadmPatches(docs, {
      merge: [
        'kind: KubeletConfiguration\nmaxPods: 150\n',
        'apiVersion: kubeadm.k8s.io/v1beta3\nkind: ClusterConfiguration\nclusterName: ignored\n',
        'kind: JoinConfiguration\ndiscovery: {}\n',
      ],
      json6902: [
        {
          group: 'kubelet.config.k8s.io',
          version: '',
          kind: 'KubeletConfiguration',
          patch: '[{"op":"replace","path":"/maxPods","value":200}]',
        },
        {
          group: 'kubeadm.k8s.io',
          version: 'v1beta3',
          kind: 'ClusterConfiguration',
          patch: '[{"op":"remove","path":"/clusterName"}]',
        },
      ],
    });
    expect(out).to.deep.equal([docs[0], { ...docs[1], maxPods: 200 }]);
  });

  it('requires a kind in merge patches', () => {
    expect(patchError(() => parseKubeadmMergePatch('maxPods: 1')).message).to.match(/needs a kind/);
    expect(patchError(() => parseKubeadmMergePatch('- a')).message).to.match(/must be a YAML mapping/);
  });
});

describe('containerd TOML patches', () => {
  const base = {
    version: 3,
    plugins: { 'io.containerd.cri.v1.images': { snapshotter: 'overlayfs', discard_unpacked_layers: false } },
  };

  it('merges version-3 and unversioned patches, skips other versions, then applies JSON patches', () => {
    const out = applyContainerdPatches(
      base,
      [
        "[plugins.'io.containerd.cri.v1.images'.registry]\nconfig_path = '/etc/containerd/certs.d'\n",
        'version = 2\n[plugins."io.containerd.grpc.v1.cri"]\nsandbox_image = "x"\n',
        "version = 3\n[plugins.'io.containerd.cri.v1.images']\nsnapshotter = 'native'\n",
      ],
      ['- {op: add, path: /plugins/io.containerd.cri.v1.images/max_concurrent_downloads, value: 5}'],
    );
    expect(out).to.deep.equal({
      version: 3,
      plugins: {
        'io.containerd.cri.v1.images': {
          snapshotter: 'native',
          discard_unpacked_layers: false,
          registry: { config_path: '/etc/containerd/certs.d' },
          max_concurrent_downloads: 5,
        },
      },
    });
  });

  it('reports TOML syntax errors with their line and column', () => {
    const error = patchError(() => parseTomlPatch('a = 1\nb = [1,\n'));
    expect(error.message).to.match(/^invalid TOML/);
    expect(error.position?.line).to.equal(3);
  });
});
