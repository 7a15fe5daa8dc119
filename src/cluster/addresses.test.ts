import { expect } from 'chai';
import {
  chooseAddresses,
  choosePort,
  chooseSubnet,
  cidrsOverlap,
  ipv4ToNumber,
  networkPlan,
  numberToIpv4,
} from './addresses.js';

describe('static addresses', () => {
  it('converts IPv4 both ways, including the top half of the space', () => {
    for (const ip of ['0.0.0.0', '10.90.0.2', '172.18.255.254', '255.255.255.255']) {
      expect(numberToIpv4(ipv4ToNumber(ip))).to.equal(ip);
    }
    expect(() => ipv4ToNumber('10.0.0')).to.throw(/not an IPv4/);
  });

  it('splits the subnet: gateway first, dynamic allocation in the upper half', () => {
    expect(networkPlan('172.18.0.0/16')).to.deep.equal({
      subnet: '172.18.0.0/16',
      gateway: '172.18.0.1',
      ipRange: '172.18.128.0/17',
    });
  });

  it('chooses the first subnet that overlaps no engine network or host route', () => {
    expect(chooseSubnet([])).to.equal('172.18.0.0/16');
    expect(chooseSubnet(['172.17.0.0/16', '172.18.5.0/24', '172.16.0.0/12'])).to.equal('10.90.0.0/16');
    expect(cidrsOverlap('10.0.0.0/8', '10.91.3.0/24')).to.equal(true);
    expect(cidrsOverlap('172.18.0.0/16', '172.19.0.0/16')).to.equal(false);
    expect(() => chooseSubnet(['0.0.0.0/1', '128.0.0.0/1'])).to.throw(/no free subnet/);
  });

  it('never hands out an address another cluster holds, running or stopped', () => {
    const plan = networkPlan('172.18.0.0/16');
    expect(chooseAddresses(plan, new Set(), 3)).to.deep.equal(['172.18.0.2', '172.18.0.3', '172.18.0.4']);
    const taken = new Set(['172.18.0.2', '172.18.0.4']);
    expect(chooseAddresses(plan, taken, 3)).to.deep.equal(['172.18.0.3', '172.18.0.5', '172.18.0.6']);
  });

  it('stays below the dynamic range and says when the static half is full', () => {
    const plan = networkPlan('10.90.0.0/28');
    // /28: .0 network, .1 gateway, .2-.7 static, .8-.15 dynamic.
    expect(chooseAddresses(plan, new Set(), 6)).to.deep.equal([
      '10.90.0.2',
      '10.90.0.3',
      '10.90.0.4',
      '10.90.0.5',
      '10.90.0.6',
      '10.90.0.7',
    ]);
    expect(() => chooseAddresses(plan, new Set(), 7)).to.throw(/no 7 free static addresses/);
  });

  it('takes the first port candidate no cluster holds', () => {
    expect(choosePort([40001, 40002], new Set([40001]))).to.equal(40002);
    expect(() => choosePort([40001], new Set([40001]))).to.throw(/no free host port/);
  });
});
