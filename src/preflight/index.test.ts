import { expect } from 'chai';
import { runPreflight, type PreflightFs } from './index.js';

/** A host where nothing can be read. */
const emptyFs: PreflightFs = {
  readFile: () => Promise.resolve(undefined),
  stat: () => Promise.resolve(undefined),
  readdir: () => Promise.resolve(undefined),
  readlink: () => Promise.resolve(undefined),
};

describe('runPreflight', () => {
  it('reads, judges and tries the ports; a remote rootless engine on cgroup v1 fails on its own report', async () => {
    const report = await runPreflight({
      connection: { kind: 'tcp', host: 'build-host', port: 2376, tls: undefined },
      engine: {
        provider: 'podman',
        rootless: true,
        cgroupVersion: 1,
        cgroupDriver: 'cgroupfs',
        limits: { memory: false, pids: false, cpu: false },
        kernel: '6.1.0-18-amd64',
      },
      request: {
        hostPorts: [{ address: '0.0.0.0', port: 80, protocol: 'tcp' }],
        nodeCount: 1,
        rootlessWithoutCgroups: 'unsupported',
      },
      fs: emptyFs,
    });
    expect(report.state.engine).to.deep.equal({ local: false, address: 'tcp://build-host:2376' });
    expect(report.results.at(-1)?.id).to.equal('host-ports');
    expect(report.results.at(-1)?.status).to.equal('skip');
    const failed = report.results.filter((r) => r.status === 'fail').map((r) => r.id);
    expect(failed).to.deep.equal(['rootless-cgroups']);
  });
});
