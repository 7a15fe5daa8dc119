import { expect } from 'chai';
import { packageClosure, packagePaths, parseDpkgStatus } from './dpkg.js';

const status = `Package: iptables
Status: install ok installed
Pre-Depends: libc6 (>= 2.34)
Depends: libip4tc2 (= 1.8.9-2), libxtables12 (= 1.8.9-2),
 netbase | net-base
Description: administration tools
 a continuation line

Package: libc6
Status: install ok installed
Depends: libgcc-s1

Package: libgcc-s1
Status: install ok installed

Package: libip4tc2
Status: install ok installed
Depends: libc6

Package: libxtables12
Status: install ok installed
Depends: libc6 (>= 2.14)

Package: netbase
Status: install ok installed

Package: removed-thing
Status: deinstall ok config-files
`;

describe('dpkg database', () => {
  const packages = parseDpkgStatus(status);

  it('keeps installed packages only, with their Depends and Pre-Depends', () => {
    expect([...packages.keys()].sort()).to.deep.equal([
      'iptables',
      'libc6',
      'libgcc-s1',
      'libip4tc2',
      'libxtables12',
      'netbase',
    ]);
    expect(packages.get('iptables')?.depends).to.have.length(4);
  });

  it('closes over dependencies, continuation lines and alternatives', () => {
    expect(packageClosure(packages, ['iptables'])).to.deep.equal([
      'iptables',
      'libc6',
      'libgcc-s1',
      'libip4tc2',
      'libxtables12',
      'netbase',
    ]);
  });

  it('names a missing package', () => {
    expect(() => packageClosure(packages, ['nftables'])).to.throw(/nftables is not installed/);
  });

  it('collects listed paths without leading slashes', () => {
    const lists = new Map([['netbase', '/.\n/etc\n/etc/protocols\n']]);
    expect([...packagePaths(lists, ['netbase'])]).to.deep.equal(['etc', 'etc/protocols']);
    expect(() => packagePaths(lists, ['libc6'])).to.throw(/no file list for package libc6/);
  });

  it('maps pre-merged-/usr paths to where the files are', () => {
    const lists = new Map([
      ['iptables', '/sbin/xtables-nft-multi\n/lib64/ld-linux-x86-64.so.2\n/usr/sbin/iptables-apply\n'],
    ]);
    expect([...packagePaths(lists, ['iptables'])]).to.deep.equal([
      'usr/sbin/xtables-nft-multi',
      'usr/lib64/ld-linux-x86-64.so.2',
      'usr/sbin/iptables-apply',
    ]);
  });
});
