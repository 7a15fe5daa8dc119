import { expect } from 'chai';
import { loadClusterConfig } from '../config/load.js';
import { isKurError } from '../util/errors.js';
import type { KurError } from '../util/errors.js';
import type { PatchCheckFacts } from './patch-check.js';
import { checkPatchesApply } from './patch-check.js';

/** What engine detection knows; the node image's facts default to the pinned ones. */
const facts: PatchCheckFacts = { rootless: false, cgroupVersion: 2, cgroupDriver: 'systemd' };

function check(lines: string[]): KurError | undefined {
  const config = loadClusterConfig({ text: lines.join('\n'), source: 'c.yaml', hostPaths: false });
  const started = Date.now();
  try {
    checkPatchesApply(config, facts);
    return undefined;
  } catch (error) {
    if (isKurError(error, 'config')) return error;
    throw error;
  } finally {
    expect(Date.now() - started, 'ms').to.be.below(1000);
  }
}

const head = ['apiVersion: kur.dev/v1alpha1', 'kind: Cluster'];

describe('checkPatchesApply (patches applied to the generated documents)', () => {
  it('accepts patches that apply, on every node', () => {
    const error = check([
      ...head,
      'nodes: [{role: control-plane}, {role: worker}]',
      'kubeadmConfigPatchesJSON6902:',
      '  - kind: ClusterConfiguration',
      '    patch: |',
      '      - {op: remove, path: /networking/dnsDomain}',
      '      - {op: add, path: /apiServer/certSANs/-, value: x.example}',
      'containerdConfigPatchesJSON6902:',
      '  - "[{op: replace, path: /plugins/io.containerd.cri.v1.images/discard_unpacked_layers, value: true}]"',
    ]);
    expect(error).to.equal(undefined);
  });

  it('refuses a JSON patch whose path is not in the generated document, with the operation line', () => {
    const error = check([
      ...head,
      'kubeadmConfigPatchesJSON6902:',
      '  - kind: ClusterConfiguration',
      '    patch: |',
      '      - {op: add, path: /apiServer/certSANs/-, value: x.example}',
      '      - {op: remove, path: /apiServer/certSANs/99}',
    ]);
    expect(error?.exitCode).to.equal(3);
    expect(error?.message).to.match(
      /^c\.yaml:7:9: kubeadmConfigPatchesJSON6902\[0\]\.patch: on node kur-control-plane: operation 1 \(remove \/apiServer\/certSANs\/99\): index 99 is out of range/,
    );
    expect(error?.hint).to.equal('Fix the patch text at that position.');
  });

  it('depends on the engine: a patch of a rootless-only containerd setting fails on a rootful engine', () => {
    const lines = [
      ...head,
      'containerdConfigPatchesJSON6902:',
      '  - "[{op: remove, path: /plugins/io.containerd.cri.v1.runtime/disable_apparmor}]"',
    ];
    const config = loadClusterConfig({ text: lines.join('\n'), source: 'c.yaml', hostPaths: false });
    expect(() => checkPatchesApply(config, { ...facts, rootless: true })).to.not.throw();
    expect(check(lines)?.message).to.match(
      /^c\.yaml:4:7: containerdConfigPatchesJSON6902\[0\]: operation 0 .*path not found/,
    );
  });

  it('names a node-level patch, a failed test and a containerd patch, all at once', () => {
    const error = check([
      ...head,
      'nodes:',
      '  - role: control-plane',
      '  - role: worker',
      '    kubeadmConfigPatchesJSON6902:',
      '      - kind: JoinConfiguration',
      '        patch: "[{op: test, path: /nodeRegistration/criSocket, value: other}]"',
      'containerdConfigPatchesJSON6902:',
      '  - "[{op: remove, path: /plugins/nope}]"',
    ]);
    expect(error?.message).to.match(/^c\.yaml:10:7: containerdConfigPatchesJSON6902\[0\]: operation 0/);
    expect(error?.detail).to.match(
      /c\.yaml:8:18: nodes\[1\]\.kubeadmConfigPatchesJSON6902\[0\]\.patch: on node kur-worker: operation 0 \(test \/nodeRegistration\/criSocket\): test failed/,
    );
  });
});
