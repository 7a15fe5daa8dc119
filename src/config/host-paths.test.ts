import { expect } from 'chai';
import { createHostPaths } from './host-paths.js';
import { normalizeClusterConfig } from './load.js';

describe('createHostPaths', () => {
  it('creates only missing paths of mounts that ask for it, once each', () => {
    const existing = new Set(['/srv/there']);
    const made: string[] = [];
    const config = normalizeClusterConfig({
      nodes: [
        {
          extraMounts: [
            { hostPath: '/srv/there', containerPath: '/a', createHostPath: true },
            { hostPath: '/srv/new', containerPath: '/b', createHostPath: true },
            { hostPath: '/srv/other', containerPath: '/c' },
          ],
        },
        {
          role: 'worker',
          extraMounts: [{ hostPath: '/srv/new', containerPath: '/b', createHostPath: true }],
        },
      ],
    });
    const created = createHostPaths(config, {
      exists: (p) => existing.has(p),
      mkdirp: (p) => {
        made.push(p);
        existing.add(p);
      },
    });
    expect(created).to.deep.equal(['/srv/new']);
    expect(made).to.deep.equal(['/srv/new']);
  });
});
