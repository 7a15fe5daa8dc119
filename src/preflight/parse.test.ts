import { expect } from 'chai';
import {
  cgroupModeOf,
  kernelAtLeast,
  listeningSocketInodes,
  parseKernelConfig,
  parseLoadedModules,
  parseModulePaths,
  parseMounts,
  parseNofile,
  parseProcCgroup,
  parseSubIds,
  userNameOf,
  v1MountPoint,
} from './parse.js';

const limits = `Limit                     Soft Limit           Hard Limit           Units
Max cpu time              unlimited            unlimited            seconds
Max open files            1024                 524288               files
Max locked memory         8388608              8388608              bytes
`;

const hybridMounts = `tmpfs /sys/fs/cgroup tmpfs rw,relatime,mode=755 0 0
cgroup /sys/fs/cgroup/cpu cgroup rw,relatime,cpu 0 0
cgroup /sys/fs/cgroup/memory cgroup rw,relatime,memory 0 0
cgroup /sys/fs/cgroup/systemd cgroup rw,relatime,name=systemd 0 0
cgroup2 /sys/fs/cgroup/unified cgroup2 rw,relatime 0 0
`;

describe('preflight parsers', () => {
  it('reads soft and hard open files limits, unlimited as a word', () => {
    expect(parseNofile(limits)).to.deep.equal({ soft: 1024, hard: 524288 });
    expect(
      parseNofile('Max open files            unlimited            unlimited            files'),
    ).to.deep.equal({
      soft: 'unlimited',
      hard: 'unlimited',
    });
    expect(parseNofile('Max cpu time unlimited unlimited seconds')).to.equal(undefined);
  });

  it('splits /proc/<pid>/cgroup into the unified path and v1 hierarchies', () => {
    const parsed = parseProcCgroup(
      '9:name=systemd:/kur-test.slice\n4:memory:/process_api/7\n1:cpu,cpuacct:/\n0::/\n',
    );
    expect(parsed).to.deep.equal({
      unified: '/',
      v1: { 'name=systemd': '/kur-test.slice', memory: '/process_api/7', 'cpu,cpuacct': '/' },
    });
  });

  it('tells unified, hybrid, legacy and missing cgroup layouts apart', () => {
    expect(cgroupModeOf(parseMounts('cgroup2 /sys/fs/cgroup cgroup2 rw,nsdelegate 0 0'))).to.equal('v2');
    expect(cgroupModeOf(parseMounts(hybridMounts))).to.equal('hybrid');
    expect(cgroupModeOf(parseMounts(hybridMounts.replace(/^cgroup2.*$/m, '')))).to.equal('v1');
    expect(cgroupModeOf(parseMounts('proc /proc proc rw 0 0'))).to.equal('none');
    expect(v1MountPoint(parseMounts(hybridMounts), 'name=systemd')).to.equal('/sys/fs/cgroup/systemd');
  });

  it('decodes octal escapes in mount paths', () => {
    expect(parseMounts('src /mnt/a\\040b ext4 rw 0 0')[0]?.target).to.equal('/mnt/a b');
  });

  it('finds subordinate id ranges by user name or uid, and user names by uid', () => {
    const subuid = 'alice:100000:65536\n1001:200000:1000\nbob:300000:65536\n';
    expect(parseSubIds(subuid, 'alice', 1000)).to.deep.equal([{ start: 100000, count: 65536 }]);
    expect(parseSubIds(subuid, 'kur-test', 1001)).to.deep.equal([{ start: 200000, count: 1000 }]);
    expect(parseSubIds(subuid, undefined, 4242)).to.deep.equal([]);
    expect(
      userNameOf('root:x:0:0::/root:/bin/sh\nkur-test:x:1001:1001::/home/kur-test:/bin/bash\n', 1001),
    ).to.equal('kur-test');
  });

  it('reads kernel config values and module lists with - and _ as one', () => {
    const config = parseKernelConfig('CONFIG_VXLAN=m\n# CONFIG_NF_TABLES is not set\nCONFIG_BRIDGE=y\n');
    expect([...config]).to.deep.equal([
      ['CONFIG_VXLAN', 'm'],
      ['CONFIG_BRIDGE', 'y'],
    ]);
    expect([...parseLoadedModules('br_netfilter 32768 0 - Live 0x0\nnf-nat 1 0 - Live 0x0\n')]).to.deep.equal(
      ['br_netfilter', 'nf_nat'],
    );
    expect([
      ...parseModulePaths(
        'kernel/drivers/net/vxlan/vxlan.ko.zst: kernel/net/ipv4/udp_tunnel.ko.zst\nkernel/net/x.ko\n',
      ),
    ]).to.deep.equal(['vxlan', 'x']);
  });

  it('compares kernel releases by major and minor', () => {
    expect(kernelAtLeast('5.10.0-28-amd64', 5, 11)).to.equal(false);
    expect(kernelAtLeast('5.11.0', 5, 11)).to.equal(true);
    expect(kernelAtLeast('6.1.0', 5, 11)).to.equal(true);
    expect(kernelAtLeast('4.19.0', 5, 11)).to.equal(false);
    expect(kernelAtLeast('weird', 5, 11)).to.equal(undefined);
  });

  it('finds listening sockets on a path in /proc/net/unix, not connected ones', () => {
    const netUnix = `Num       RefCount Protocol Flags    Type St Inode Path
0000000051cda2ed: 00000002 00000000 00010000 0001 01 126706 /var/run/docker.sock
00000000bcb13cb9: 00000003 00000000 00000000 0001 03 364848 /var/run/docker.sock
000000009992c86c: 00000002 00000000 00010000 0001 01 128329 /run/user/1001/podman/podman.sock
`;
    expect(listeningSocketInodes(netUnix, '/var/run/docker.sock')).to.deep.equal(['126706']);
    expect(listeningSocketInodes(netUnix, '/run/docker.sock')).to.deep.equal([]);
  });
});
