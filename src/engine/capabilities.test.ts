import { expect } from 'chai';
import { boundingSetOf, capabilitiesFromMask, capabilityNames } from './capabilities.js';
import { grantable, privilegeSpec, type PrivilegeMode } from './privilege.js';

describe('capabilities', () => {
  it('names the bits of a bounding set', () => {
    // Recorded from the CI host's rootful Docker shim: everything but CAP_SYS_RESOURCE (bit 24).
    const caps = capabilitiesFromMask('000001fffeffffff');
    expect(caps).to.have.length(40);
    expect(caps).to.not.include('CAP_SYS_RESOURCE');
    expect(caps).to.include.members(['CAP_SYS_ADMIN', 'CAP_CHECKPOINT_RESTORE']);
    expect(capabilitiesFromMask('00000000a80425fb')).to.include.members([
      'CAP_CHOWN',
      'CAP_NET_RAW',
      'CAP_AUDIT_WRITE',
    ]);
    expect(capabilityNames[24]).to.equal('CAP_SYS_RESOURCE');
    expect(() => capabilitiesFromMask('zz')).to.throw(/not a capability mask/);
  });

  it('reads CapBnd from a /proc status text', () => {
    const status =
      'Name:\tcontainerd-shim\nCapPrm:\t000001fffeffffff\nCapBnd:\t000001fffeffffff\nCapAmb:\t0\n';
    expect(boundingSetOf(status)).to.equal('000001fffeffffff');
    expect(boundingSetOf('Name:\tx\n')).to.equal(undefined);
  });
});

describe('privilege probing', () => {
  it('finds the grantable capabilities by halving', async () => {
    const blocked = new Set(['CAP_SYS_RESOURCE', 'CAP_BPF']);
    const tries: number[] = [];
    const works = (caps: string[]): Promise<boolean> => {
      tries.push(caps.length);
      return Promise.resolve(caps.every((c) => !blocked.has(c)));
    };
    const granted = await grantable([...capabilityNames], works);
    expect(granted).to.deep.equal(capabilityNames.filter((c) => !blocked.has(c)));
    // Far fewer starts than one per capability.
    expect(tries.length).to.be.lessThan(capabilityNames.length / 2);
    expect(await grantable([], works)).to.deep.equal([]);
  });

  it('maps modes to container fields per provider', () => {
    expect(privilegeSpec({ kind: 'privileged' }, 'docker')).to.deep.equal({ privileged: true });
    const explicit: PrivilegeMode = {
      kind: 'explicit-capabilities',
      capabilities: ['CAP_SYS_ADMIN'],
      missing: ['CAP_SYS_RESOURCE'],
      unknownToEngine: [],
      reason: 'unable to apply caps',
    };
    expect(privilegeSpec(explicit, 'docker')).to.deep.equal({
      capAdd: ['CAP_SYS_ADMIN'],
      securityOpt: ['seccomp=unconfined', 'apparmor=unconfined', 'label=disable'],
      deviceCgroupRules: ['a *:* rwm'],
      maskedPaths: [],
      readonlyPaths: [],
    });
    expect(privilegeSpec(explicit, 'podman').securityOpt).to.include('systempaths=unconfined');
    expect(privilegeSpec(explicit, 'podman')).to.not.have.property('maskedPaths');
    expect(() => privilegeSpec({ kind: 'unavailable', reason: 'no' }, 'docker')).to.throw(
      /cannot start privileged/,
    );
  });
});
