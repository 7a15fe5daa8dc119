import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import {
  containerCreateBody,
  labelFilters,
  matchesLabels,
  networkCreateBody,
  parseContainerInfo,
  parseImageInfo,
  parseLoadOutput,
  parseNetworkInfo,
  splitReference,
} from './api-mapping.js';
import type { JsonRecord } from './json.js';

function recorded(name: string): JsonRecord {
  return JSON.parse(readFileSync(new URL(`testdata/${name}.json`, import.meta.url), 'utf8')) as JsonRecord;
}

describe('Engine API mapping', () => {
  it('maps a node-like container spec to the create body', () => {
    const body = containerCreateBody({
      name: 'kur-control-plane',
      image: 'kur.local/node:v1.35.0',
      hostname: 'kur-control-plane',
      labels: { 'dev.kur.cluster': 'kur', 'dev.kur.role': 'control-plane' },
      env: { container: 'docker' },
      capAdd: ['CAP_SYS_ADMIN'],
      securityOpt: ['seccomp=unconfined'],
      deviceCgroupRules: ['a *:* rwm'],
      maskedPaths: [],
      devices: [{ hostPath: '/dev/fuse' }],
      tmpfs: { '/run': '', '/tmp': '' },
      mounts: [
        { type: 'volume', target: '/var', labels: { 'dev.kur.cluster': 'kur' } },
        { type: 'bind', source: '/lib/modules', target: '/lib/modules', readOnly: true },
        { type: 'bind', source: '/src', target: '/src', propagation: 'rshared' },
      ],
      ports: [
        { containerPort: 6443, hostIp: '127.0.0.1' },
        { containerPort: 80, hostPort: 8080, protocol: 'tcp' },
      ],
      network: { name: 'kur', aliases: ['kur-control-plane'], ipv4Address: '172.30.0.2' },
      restartPolicy: { name: 'on-failure', maximumRetryCount: 1 },
      cgroupnsMode: 'private',
      pidsLimit: -1,
      stopSignal: 'SIGRTMIN+3',
      logConfig: { type: 'json-file' },
    });
    expect(body).to.deep.equal({
      Image: 'kur.local/node:v1.35.0',
      Hostname: 'kur-control-plane',
      Env: ['container=docker'],
      Labels: { 'dev.kur.cluster': 'kur', 'dev.kur.role': 'control-plane' },
      StopSignal: 'SIGRTMIN+3',
      ExposedPorts: { '6443/tcp': {}, '80/tcp': {} },
      HostConfig: {
        CapAdd: ['CAP_SYS_ADMIN'],
        SecurityOpt: ['seccomp=unconfined'],
        Devices: [{ PathOnHost: '/dev/fuse', PathInContainer: '/dev/fuse', CgroupPermissions: 'rwm' }],
        DeviceCgroupRules: ['a *:* rwm'],
        MaskedPaths: [],
        Tmpfs: { '/run': '', '/tmp': '' },
        Binds: ['/lib/modules:/lib/modules:ro', '/src:/src:rw,rshared'],
        Mounts: [{ Type: 'volume', Target: '/var', VolumeOptions: { Labels: { 'dev.kur.cluster': 'kur' } } }],
        PortBindings: {
          '6443/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }],
          '80/tcp': [{ HostIp: '', HostPort: '8080' }],
        },
        NetworkMode: 'kur',
        RestartPolicy: { Name: 'on-failure', MaximumRetryCount: 1 },
        CgroupnsMode: 'private',
        PidsLimit: -1,
        LogConfig: { Type: 'json-file', Config: {} },
      },
      NetworkingConfig: {
        EndpointsConfig: {
          kur: { Aliases: ['kur-control-plane'], IPAMConfig: { IPv4Address: '172.30.0.2' } },
        },
      },
    });
  });

  it('leaves out everything not asked for', () => {
    expect(containerCreateBody({ name: 'x', image: 'i' })).to.deep.equal({ Image: 'i', HostConfig: {} });
  });

  for (const engine of ['rootful-docker', 'rootless-podman']) {
    it(`reads a recorded ${engine} container inspect`, () => {
      const info = parseContainerInfo(recorded(`${engine}.container-inspect`));
      expect(info).to.include({ name: 'kur-record-node', hostname: 'node1', restartPolicy: 'on-failure' });
      expect(info.state).to.include({ running: true, status: 'running' });
      expect(info.labels).to.include({ 'dev.kur.role': 'control-plane' });
      expect(info.networks['kur-record']).to.include({ ipv4Address: '10.213.7.10', ipv4PrefixLength: 24 });
      expect(info.networks['kur-record']!.aliases).to.include('cp');
      expect(info.ports).to.have.length(1);
      expect(info.ports[0]).to.include({ containerPort: 6443, protocol: 'tcp', hostIp: '127.0.0.1' });
      expect(info.ports[0]!.hostPort).to.be.greaterThan(0);
      const modules = info.mounts.find((m) => m.destination === '/lib/modules');
      expect(modules).to.include({ type: 'bind', readOnly: true });
      expect(info.mounts.find((m) => m.destination === '/var')).to.include({ type: 'volume' });
    });

    it(`reads a recorded ${engine} network inspect, MTU included`, () => {
      const network = parseNetworkInfo(recorded(`${engine}.network-inspect`));
      expect(network).to.include({ name: 'kur-record', mtu: 1400, driver: 'bridge' });
      expect(network.subnets).to.deep.equal([{ subnet: '10.213.7.0/24', gateway: '10.213.7.1' }]);
      expect(network.labels).to.deep.equal({ 'dev.kur.test': 'true' });
    });

    it(`reads a recorded ${engine} image inspect`, () => {
      const image = parseImageInfo(recorded(`${engine}.image-inspect`));
      expect(image.repoTags).to.include('kur.local/record:1');
      expect(image).to.include({ architecture: 'amd64', os: 'linux' });
      expect(image.id).to.match(/^sha256:[0-9a-f]{64}$/);
      expect(image.labels).to.deep.equal({ 'dev.kur.test': 'true' });
      expect(image.cmd).to.deep.equal(['sleep', '3600']);
    });
  }

  it('maps a network spec, MTU as the compat driver option', () => {
    expect(
      networkCreateBody({
        name: 'kur',
        subnet: '172.30.0.0/16',
        gateway: '172.30.0.1',
        mtu: 1400,
        labels: { a: 'b' },
      }),
    ).to.deep.equal({
      Name: 'kur',
      CheckDuplicate: true,
      Driver: 'bridge',
      IPAM: { Driver: 'default', Config: [{ Subnet: '172.30.0.0/16', Gateway: '172.30.0.1' }] },
      Options: { 'com.docker.network.driver.mtu': '1400' },
      Labels: { a: 'b' },
    });
  });

  it('reads the load answers of Docker and Podman', () => {
    // As recorded: Docker sends one message per tag, Podman one for all; Docker reports errors in-stream.
    expect(
      parseLoadOutput(
        '{"stream":"Loaded image: kur.local/a:1\\n"}\n{"stream":"Loaded image: kur.local/a:2\\n"}\n',
      ),
    ).to.deep.equal({ names: ['kur.local/a:1', 'kur.local/a:2'], error: undefined });
    expect(parseLoadOutput('{"stream":"Loaded image: kur.local/a:1,kur.local/a:2"}\n').names).to.deep.equal([
      'kur.local/a:1',
      'kur.local/a:2',
    ]);
    expect(parseLoadOutput('{"stream":"Loaded image ID: sha256:abc\\n"}').names).to.deep.equal([
      'sha256:abc',
    ]);
    expect(
      parseLoadOutput(
        '{"errorDetail":{"message":"unexpected EOF"},"error":"Error processing tar file: unexpected EOF"}',
      ).error,
    ).to.equal('Error processing tar file: unexpected EOF');
  });

  it('builds label filters and splits references', () => {
    // The engine narrows by the first label only; all of them are matched here.
    expect(labelFilters({ 'dev.kur.test': true, 'dev.kur.cluster': 'a' })).to.deep.equal({
      label: ['dev.kur.test'],
    });
    expect(labelFilters({ 'dev.kur.cluster': 'a' })).to.deep.equal({ label: ['dev.kur.cluster=a'] });
    expect(labelFilters({})).to.deep.equal({});
    const labels = { 'dev.kur.test': 'true', 'dev.kur.cluster': 'a' };
    expect(matchesLabels(labels, { 'dev.kur.test': true, 'dev.kur.cluster': 'a' })).to.equal(true);
    expect(matchesLabels(labels, { 'dev.kur.test': true, 'dev.kur.cluster': 'b' })).to.equal(false);
    expect(matchesLabels(labels, { 'dev.kur.role': true })).to.equal(false);
    expect(matchesLabels(labels, undefined)).to.equal(true);
    expect(splitReference('kur.local/node:v1.35.0')).to.deep.equal({
      repo: 'kur.local/node',
      tag: 'v1.35.0',
    });
    expect(splitReference('localhost:5000/x')).to.deep.equal({ repo: 'localhost:5000/x', tag: 'latest' });
  });
});
