import { expect } from 'chai';
import type { InfoReport } from '../api/info.js';
import { renderInfo } from './info.js';

const report: InfoReport = {
  kur: { version: '0.1.0' },
  endpoint: {
    source: 'rootful-docker-socket',
    description: '/var/run/docker.sock',
    address: 'unix:///var/run/docker.sock',
  },
  engine: {
    provider: 'docker',
    version: '20.10.24+dfsg1',
    apiVersion: '1.41',
    rootless: false,
    cgroupVersion: 1,
    cgroupDriver: 'cgroupfs',
    limits: { memory: true, pids: true, cpu: false },
    privilege: 'explicit-capabilities',
    missingCapabilities: ['CAP_SYS_RESOURCE'],
    privilegeReason: 'unable to apply caps: operation not permitted',
    os: 'Debian GNU/Linux 12 (bookworm)',
    kernel: '6.18.44',
    arch: 'amd64',
    storageDriver: 'overlay2',
    runtime: 'runc',
    bridgeMtu: null,
    cpus: 2,
    memoryBytes: 2 * 2 ** 30,
    warnings: ['WARNING: No swap limit support'],
  },
  detectMs: 1400,
  preflight: [
    {
      id: 'inotify-watches',
      title: 'inotify watches',
      status: 'warn',
      looked: '/proc/sys/fs/inotify/max_user_watches = 8192',
      message: 'below 524288',
      fix: 'sudo sysctl fs.inotify.max_user_watches=524288',
    },
  ],
};

describe('kur info text', () => {
  it('summarises the engine in aligned lines, then the host checks', () => {
    const [summary, checks] = renderInfo(report).split('\n\n');
    expect(checks).to.match(/^Host checks/);
    expect(checks).to.contain('WARN  inotify watches');
    expect(checks).to.contain('sudo sysctl fs.inotify.max_user_watches=524288');
    expect(summary!.split('\n')).to.deep.equal([
      'Endpoint:       unix:///var/run/docker.sock (the rootful Docker socket)',
      'Engine:         Docker 20.10.24+dfsg1 (API 1.41)',
      'Host:           Debian GNU/Linux 12 (bookworm), kernel 6.18.44, amd64, 2 CPUs, 2.0 GiB',
      'Cgroups:        v1, driver cgroupfs',
      'Limits:         memory yes, pids yes, cpu no',
      'Storage:        overlay2, runtime runc',
      'Bridge MTU:     not reported',
      'Node privilege: explicit capabilities (privileged containers fail here)',
      'Not grantable:  CAP_SYS_RESOURCE',
      'Warning:        No swap limit support',
    ]);
  });

  it('names a user-chosen source and a rootless engine', () => {
    const text = renderInfo({
      ...report,
      endpoint: {
        source: 'DOCKER_HOST',
        description: 'DOCKER_HOST',
        address: 'unix:///run/user/1000/docker.sock',
      },
      engine: {
        ...report.engine,
        rootless: true,
        privilege: 'privileged',
        missingCapabilities: [],
        warnings: [],
      },
    });
    expect(text).to.contain('(from DOCKER_HOST)');
    expect(text).to.contain('(API 1.41), rootless');
    expect(text).to.not.contain('Not grantable');
  });
});
