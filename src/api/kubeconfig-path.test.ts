import { expect } from 'chai';
import { homedir } from 'node:os';
import { defaultKubeconfigPath, kubeconfigPathFor, resolveKubeconfigPath } from './kubeconfig-path.js';

describe('kubeconfig path', () => {
  it('resolves --kubeconfig, then the first $KUBECONFIG file, then ~/.kube/config', () => {
    expect(resolveKubeconfigPath({ flag: '/x', env: { KUBECONFIG: '/y' }, home: '/h' })).to.equal('/x');
    expect(resolveKubeconfigPath({ env: { KUBECONFIG: ':/y:/z' }, home: '/h' })).to.equal('/y');
    expect(resolveKubeconfigPath({ env: {}, home: '/h' })).to.equal('/h/.kube/config');
  });
});

describe('the CLI kubeconfig', () => {
  it('takes the flag, else $KUBECONFIG, else $HOME, treating an empty HOME as unset', () => {
    expect(kubeconfigPathFor('/x', { HOME: '/h' })).to.equal('/x');
    expect(kubeconfigPathFor(undefined, { HOME: '/h', KUBECONFIG: '/k' })).to.equal('/k');
    expect(kubeconfigPathFor(undefined, { HOME: '/h' })).to.equal('/h/.kube/config');
    expect(kubeconfigPathFor(undefined, { HOME: '' })).to.equal(`${homedir()}/.kube/config`);
    expect(defaultKubeconfigPath({ HOME: '/h' })).to.equal('/h/.kube/config');
  });
});
