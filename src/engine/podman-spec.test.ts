import { expect } from 'chai';
import { podmanCreateBody, signalNumber } from './podman-spec.js';
import { privilegeSpec } from './privilege.js';

describe('Podman libpod create body', () => {
  it('maps a node-like spec, cgroupns included', () => {
    const body = podmanCreateBody({
      name: 'kur-control-plane',
      image: 'kur.local/node:v1.35.0',
      hostname: 'kur-control-plane',
      labels: { 'dev.kur.cluster': 'kur' },
      env: { container: 'podman' },
      entrypoint: ['/usr/local/bin/entrypoint'],
      cmd: ['/sbin/init'],
      ...privilegeSpec(
        {
          kind: 'explicit-capabilities',
          capabilities: ['CAP_SYS_ADMIN'],
          missing: [],
          unknownToEngine: [],
          reason: '',
        },
        'podman',
      ),
      devices: [{ hostPath: '/dev/fuse' }],
      tmpfs: { '/run': 'rw,size=64m', '/tmp': '' },
      mounts: [
        { type: 'volume', target: '/var' },
        { type: 'volume', source: 'kur-data', target: '/data', readOnly: true },
        { type: 'bind', source: '/lib/modules', target: '/lib/modules', readOnly: true },
        { type: 'bind', source: '/src', target: '/src', propagation: 'rshared' },
      ],
      ports: [
        { containerPort: 6443, hostIp: '127.0.0.1' },
        { containerPort: 53, hostPort: 5353, protocol: 'udp' },
      ],
      network: { name: 'kur', aliases: ['cp'], ipv4Address: '10.89.0.2' },
      restartPolicy: { name: 'on-failure', maximumRetryCount: 1 },
      cgroupnsMode: 'private',
      pidsLimit: -1,
      stopSignal: 'SIGRTMIN+3',
      stopTimeoutSeconds: 30,
      logConfig: { type: 'k8s-file' },
      ulimits: [{ name: 'nofile', soft: 1024, hard: 4096 }],
      sysctls: { 'net.ipv4.ip_forward': '1' },
    });
    expect(body).to.deep.equal({
      name: 'kur-control-plane',
      image: 'kur.local/node:v1.35.0',
      netns: { nsmode: 'bridge' },
      systemd: 'true',
      hostname: 'kur-control-plane',
      labels: { 'dev.kur.cluster': 'kur' },
      env: { container: 'podman' },
      entrypoint: ['/usr/local/bin/entrypoint'],
      command: ['/sbin/init'],
      cap_add: ['CAP_SYS_ADMIN'],
      seccomp_profile_path: 'unconfined',
      apparmor_profile: 'unconfined',
      selinux_opts: ['disable'],
      unmask: ['ALL'],
      devices: [{ path: '/dev/fuse:/dev/fuse:rwm' }],
      device_cgroup_rule: [{ allow: true, type: 'a', access: 'rwm' }],
      mounts: [
        { destination: '/run', type: 'tmpfs', source: 'tmpfs', options: ['rw', 'size=64m'] },
        { destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: [] },
        { destination: '/lib/modules', type: 'bind', source: '/lib/modules', options: ['rbind', 'ro'] },
        { destination: '/src', type: 'bind', source: '/src', options: ['rbind', 'rw', 'rshared'] },
      ],
      volumes: [
        { Name: '', Dest: '/var', Options: ['rw'] },
        { Name: 'kur-data', Dest: '/data', Options: ['ro'] },
      ],
      portmappings: [
        { host_ip: '127.0.0.1', container_port: 6443, host_port: 0, protocol: 'tcp' },
        { host_ip: '', container_port: 53, host_port: 5353, protocol: 'udp' },
      ],
      networks: { kur: { aliases: ['cp'], static_ips: ['10.89.0.2'] } },
      restart_policy: 'on-failure',
      restart_tries: 1,
      cgroupns: { nsmode: 'private' },
      resource_limits: { pids: { limit: -1 } },
      log_configuration: { driver: 'k8s-file', options: {} },
      stop_signal: 37,
      stop_timeout: 30,
      sysctl: { 'net.ipv4.ip_forward': '1' },
      r_limits: [{ type: 'RLIMIT_NOFILE', soft: 1024, hard: 4096 }],
    });
  });

  it('keeps to the compat defaults for a bare spec', () => {
    expect(podmanCreateBody({ name: 'x', image: 'i' })).to.deep.equal({
      name: 'x',
      image: 'i',
      netns: { nsmode: 'bridge' },
      systemd: 'true',
    });
  });

  it('refuses what it cannot express instead of dropping it', () => {
    expect(() => podmanCreateBody({ name: 'x', image: 'i', securityOpt: ['mystery=1'] })).to.throw(
      /security option/,
    );
    expect(() => podmanCreateBody({ name: 'x', image: 'i', deviceCgroupRules: ['everything'] })).to.throw(
      /device cgroup rule/,
    );
    expect(() => podmanCreateBody({ name: 'x', image: 'i', maskedPaths: ['/proc/kcore'] })).to.throw(
      /masked/,
    );
  });

  it('reads device rules with numbers', () => {
    const body = podmanCreateBody({ name: 'x', image: 'i', deviceCgroupRules: ['c 10:229 rwm', 'b 7:* r'] });
    expect(body.device_cgroup_rule).to.deep.equal([
      { allow: true, type: 'c', access: 'rwm', major: 10, minor: 229 },
      { allow: true, type: 'b', access: 'r', major: 7 },
    ]);
  });

  it('turns signal names into the numbers Podman takes', () => {
    expect(signalNumber('SIGRTMIN+3')).to.equal(37);
    expect(signalNumber('SIGTERM')).to.equal(15);
    expect(signalNumber('kill')).to.equal(9);
    expect(signalNumber('10')).to.equal(10);
    expect(signalNumber('SIGRTMAX')).to.equal(64);
    expect(() => signalNumber('SIGNOPE')).to.throw(/stop signal/);
  });
});
