import { cgroupVersionCheck, rootlessCgroupsCheck, systemdCgroupV1Check } from './checks-cgroups.js';
import {
  devFuseCheck,
  devNetTunCheck,
  inotifyInstancesCheck,
  inotifyWatchesCheck,
  lingerCheck,
  nofileCheck,
  subIdsCheck,
  unprivilegedPortsCheck,
} from './checks-host.js';
import { bridgeNetfilterCheck, kernelVersionCheck, netfilterCheck, vxlanCheck } from './checks-kernel.js';
import type { HostState } from './host-state.js';
import {
  hostScope,
  type Check,
  type CheckResult,
  type PreflightEngine,
  type PreflightRequest,
} from './result.js';

/** Every synchronous check, in the order they are shown. The host ports check is async (ports.ts). */
export const checks: readonly Check[] = [
  cgroupVersionCheck,
  rootlessCgroupsCheck,
  systemdCgroupV1Check,
  lingerCheck,
  subIdsCheck,
  devNetTunCheck,
  devFuseCheck,
  kernelVersionCheck,
  vxlanCheck,
  bridgeNetfilterCheck,
  netfilterCheck,
  unprivilegedPortsCheck,
  inotifyWatchesCheck,
  inotifyInstancesCheck,
  nofileCheck,
];

/**
 * Judges a recorded or freshly read host for a cluster on `engine`. Pure: no I/O, so the
 * verdict (the rootless cgroup one included) takes well under a millisecond and is unit-tested
 * from fixtures.
 */
export function runChecks(
  state: HostState,
  engine: PreflightEngine,
  request: PreflightRequest,
): CheckResult[] {
  const ctx = { state, engine, request, ...hostScope(state, engine) };
  return checks.map((run) => run(ctx));
}
