import type { Connection } from '../engine/types.js';
import { runChecks } from './checks.js';
import type { PreflightFs } from './fs.js';
import { readHostState, type HostState } from './host-state.js';
import { checkHostPorts, type PortCheckOptions } from './ports.js';
import type { CheckResult, PreflightEngine, PreflightRequest } from './result.js';

export { runChecks, checks } from './checks.js';
export { checkHostPorts, tryBind, type BindOutcome } from './ports.js';
export {
  readHostState,
  engineUidFromLibpodInfo,
  type HostState,
  type ReadHostStateOptions,
} from './host-state.js';
export { realPreflightFs, type PreflightFs, type FileInfo } from './fs.js';
export {
  summarizeChecks,
  renderChecks,
  preflightError,
  assertPreflight,
  type CheckSummary,
} from './report.js';
export type {
  CheckResult,
  CheckStatus,
  HostPortRequest,
  PreflightEngine,
  PreflightRequest,
  RootlessWithoutCgroups,
} from './result.js';

export interface PreflightOptions {
  connection: Connection;
  engine: PreflightEngine;
  request: PreflightRequest;
  /** The engine's uid when known better than the socket's owner (engineUidFromLibpodInfo). */
  engineUid?: number | undefined;
  fs?: PreflightFs;
  ports?: PortCheckOptions;
}

export interface PreflightReport {
  state: HostState;
  /** Every check, the host ports one last. */
  results: CheckResult[];
  elapsedMs: number;
}

/** Reads the host, judges it and tries the requested host ports: everything before create makes anything. */
export async function runPreflight(options: PreflightOptions): Promise<PreflightReport> {
  const started = Date.now();
  const state = await readHostState({
    connection: options.connection,
    engineUid: options.engineUid,
    fs: options.fs,
  });
  const results = runChecks(state, options.engine, options.request);
  results.push(await checkHostPorts(state, options.engine, options.request.hostPorts, options.ports));
  return { state, results, elapsedMs: Date.now() - started };
}
