import { detectEngine, type EngineInfo } from '../engine/detect.js';
import type { EndpointSource, Provider } from '../engine/types.js';
import { kurVersion } from '../version.js';
import { defaultClusterConfig } from '../config/load.js';
import { preflightRequest } from '../cluster/preflight-request.js';
import { runPreflight, type CheckResult } from '../preflight/index.js';
import { callLogger, withEngine, type EngineOptions } from './common.js';

/** The stable shape of `kur info --output json`. */
export interface InfoReport {
  kur: { version: string };
  endpoint: { source: EndpointSource; description: string; address: string };
  engine: {
    provider: Provider;
    version: string;
    apiVersion: string;
    rootless: boolean;
    cgroupVersion: 1 | 2 | null;
    cgroupDriver: string;
    limits: { memory: boolean; pids: boolean; cpu: boolean };
    privilege: EngineInfo['privilege']['kind'];
    /** Capabilities the engine cannot grant (explicit-capabilities mode). */
    missingCapabilities: string[];
    /** Why privileged containers are not used, in the engine's words. */
    privilegeReason: string | null;
    os: string;
    kernel: string;
    arch: string;
    storageDriver: string;
    runtime: string;
    bridgeMtu: number | null;
    cpus: number;
    memoryBytes: number;
    warnings: string[];
  };
  detectMs: number;
  /** The host checks `kur create cluster` runs (a representative three-node cluster, no host ports). */
  preflight: CheckResult[];
}

/** The engine kur would use and what it allows, like `kur info` (the same shape as `--output json`). */
export function info(options: EngineOptions = {}): Promise<InfoReport> {
  return withEngine(options, async (engine) => {
    const facts = await detectEngine(engine, { logger: callLogger(options) });
    const { results: preflight } = await runPreflight({
      connection: engine.endpoint.connection,
      engine: facts,
      request: { ...preflightRequest(defaultClusterConfig()), nodeCount: 3 },
    });
    const privilege = facts.privilege;
    const { endpoint } = engine;
    return {
      kur: { version: kurVersion() },
      endpoint: {
        source: endpoint.source,
        description: endpoint.sourceDescription,
        address: endpoint.address,
      },
      engine: {
        provider: facts.provider,
        version: facts.version,
        apiVersion: facts.apiVersion,
        rootless: facts.rootless,
        cgroupVersion: facts.cgroupVersion ?? null,
        cgroupDriver: facts.cgroupDriver,
        limits: facts.limits,
        privilege: privilege.kind,
        missingCapabilities: privilege.kind === 'explicit-capabilities' ? privilege.missing : [],
        privilegeReason: privilege.kind === 'privileged' ? null : privilege.reason,
        os: facts.os,
        kernel: facts.kernel,
        arch: facts.arch,
        storageDriver: facts.storageDriver,
        runtime: facts.defaultRuntime,
        bridgeMtu: facts.bridgeMtu ?? null,
        cpus: facts.cpus,
        memoryBytes: facts.memoryBytes,
        warnings: facts.warnings,
      },
      detectMs: facts.detectMs,
      preflight,
    };
  });
}
