import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { goArch, parseEngineFacts, providerFromVersion } from './engine-facts.js';
import type { JsonRecord } from './json.js';

function recorded(name: string): JsonRecord {
  return JSON.parse(readFileSync(new URL(`testdata/${name}.json`, import.meta.url), 'utf8')) as JsonRecord;
}

// Payloads recorded from the three engines the CI host runs (Debian 12: Docker 20.10, Podman 4.3).
describe('engine facts from recorded payloads', () => {
  it('reads rootful Docker: cgroup v1 with cgroupfs and every limit', () => {
    const facts = parseEngineFacts({
      version: recorded('rootful-docker.version'),
      info: recorded('rootful-docker.info'),
    });
    expect(facts).to.include({
      provider: 'docker',
      version: '20.10.24+dfsg1',
      apiVersion: '1.41',
      minApiVersion: '1.12',
      arch: 'amd64',
      rootless: false,
      cgroupVersion: 1,
      cgroupDriver: 'cgroupfs',
      storageDriver: 'overlay2',
      defaultRuntime: 'runc',
      os: 'Debian GNU/Linux 12 (bookworm)',
      kernel: '6.18.44-fc-v669',
    });
    expect(facts.limits).to.deep.equal({ memory: true, pids: true, cpu: true });
    expect(facts.securityOptions).to.deep.equal(['seccomp']);
  });

  it('reads rootless Docker: name=rootless, no cgroup driver, no limits', () => {
    const facts = parseEngineFacts({
      version: recorded('rootless-docker.version'),
      info: recorded('rootless-docker.info'),
    });
    expect(facts).to.include({ provider: 'docker', rootless: true, cgroupVersion: 1, cgroupDriver: 'none' });
    expect(facts.limits).to.deep.equal({ memory: false, pids: false, cpu: false });
    expect(facts.securityOptions).to.include('rootless');
    expect(facts.warnings[0]).to.match(/rootless-mode without cgroups/);
  });

  it('reads rootless Podman from /libpod/info', () => {
    const facts = parseEngineFacts({
      version: recorded('rootless-podman.version'),
      libpodInfo: recorded('rootless-podman.libpod-info'),
    });
    expect(facts).to.include({
      provider: 'podman',
      version: '4.3.1',
      apiVersion: '1.41',
      arch: 'amd64',
      rootless: true,
      cgroupVersion: 1,
      cgroupDriver: 'cgroupfs',
      storageDriver: 'overlay',
      defaultRuntime: 'runc',
      os: 'debian 12 (bookworm)',
      hostname: 'vm',
      cpus: 2,
    });
    // Its compat /info claims memory limits; a rootless engine on cgroup v1 has none.
    expect(facts.limits).to.deep.equal({ memory: false, pids: false, cpu: false });
    expect(facts.securityOptions).to.deep.equal(['seccomp', 'rootless']);
  });

  it('falls back to Podman compat /info, which marks rootless with a top-level flag', () => {
    const facts = parseEngineFacts({
      version: recorded('rootless-podman.version'),
      info: recorded('rootless-podman.info'),
    });
    expect(facts).to.include({
      provider: 'podman',
      rootless: true,
      cgroupVersion: 1,
      arch: 'amd64',
      os: 'debian',
    });
    expect(facts.limits).to.deep.equal({ memory: false, pids: false, cpu: false });
  });

  it('takes limits from the controllers Podman can use on cgroup v2', () => {
    const libpodInfo = recorded('rootless-podman.libpod-info');
    const host = libpodInfo.host as JsonRecord;
    const v2 = {
      ...libpodInfo,
      host: { ...host, cgroupVersion: 'v2', cgroupManager: 'systemd', cgroupControllers: ['memory', 'pids'] },
    };
    const facts = parseEngineFacts({ version: recorded('rootless-podman.version'), libpodInfo: v2 });
    expect(facts).to.include({ cgroupVersion: 2, cgroupDriver: 'systemd' });
    expect(facts.limits).to.deep.equal({ memory: true, pids: true, cpu: false });
  });

  it('tells Podman from Docker by the /version components', () => {
    expect(providerFromVersion(recorded('rootless-podman.version'))).to.equal('podman');
    expect(providerFromVersion(recorded('rootful-docker.version'))).to.equal('docker');
    expect(providerFromVersion({})).to.equal('docker');
  });

  it('degrades to unknown values on an empty payload', () => {
    const facts = parseEngineFacts({ version: {}, info: {} });
    expect(facts).to.include({
      version: 'unknown',
      cgroupVersion: undefined,
      cgroupDriver: 'unknown',
      rootless: false,
    });
  });

  it('maps uname machines to GOARCH names', () => {
    expect([goArch('x86_64'), goArch('aarch64'), goArch('amd64')]).to.deep.equal(['amd64', 'arm64', 'amd64']);
  });
});
