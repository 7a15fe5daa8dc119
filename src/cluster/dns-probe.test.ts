import { expect } from 'chai';
import { clusterDnsIp, dnsQuery, parseDnsReply } from './dns-probe.js';

describe('DNS probe', () => {
  it('encodes an A question with recursion desired', () => {
    const q = dnsQuery('kubernetes.default.svc.cluster.local');
    expect(q.readUInt16BE(2)).to.equal(0x0100);
    expect(q.readUInt16BE(4)).to.equal(1);
    expect(q.subarray(12, 31).toString('latin1')).to.equal('\x0akubernetes\x07default');
    expect([...q.subarray(-5)]).to.deep.equal([0, 0, 1, 0, 1]);
  });

  it('refuses empty and overlong labels', () => {
    expect(() => dnsQuery('a..b')).to.throw(/invalid DNS label/);
    expect(() => dnsQuery(`${'x'.repeat(64)}.local`)).to.throw(/invalid DNS label/);
  });

  it('reads rcode and the answer count from od output', () => {
    // id 6b75, flags 8580 (response, AA, RD, RA, NOERROR), 1 question, 1 answer
    expect(parseDnsReply(' 6b 75 85 80 00 01 00 01 00 00 00 00\n 0a 6b 75 62')).to.deep.equal({
      id: 0x6b75,
      rcode: 0,
      answers: 1,
    });
    expect(parseDnsReply('6b 75 81 83 00 01 00 00 00 00 00 00')?.rcode).to.equal(3);
    expect(parseDnsReply('6b 75 01 00 00 01 00 00 00 00 00 00')).to.equal(undefined); // a query, not a reply
    expect(parseDnsReply('')).to.equal(undefined);
  });

  it('finds the cluster DNS address the way kubeadm does', () => {
    expect(clusterDnsIp('10.96.0.0/16')).to.equal('10.96.0.10');
    expect(clusterDnsIp('172.20.255.0/24')).to.equal('172.20.255.10');
    expect(() => clusterDnsIp('fd00::/108')).to.throw(/not an IPv4 subnet/);
  });
});
