import { connectEngine } from '../engine/connect.js';
import { detectEngine, type EngineInfo } from '../engine/detect.js';
import { providerName } from '../engine/endpoint.js';
import type { EndpointSource, Provider } from '../engine/types.js';
import type { Logger } from '../util/logger.js';
import { kurVersion } from '../version.js';
import { defaultClusterConfig } from '../config/load.js';
import { renderChecks, runPreflight, type CheckResult } from '../preflight/index.js';
import { preflightRequest } from './preflight-request.js';

export interface InfoOptions {
  host?: string | undefined;
  env: Record<string, string | undefined>;
  logger: Logger;
}

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

/** Resolves and detects the engine kur would use, for `kur info`. */
export async function engineInfo(options: InfoOptions): Promise<InfoReport> {
  const engine = await connectEngine({ host: options.host, env: options.env, logger: options.logger });
  try {
    const info = await detectEngine(engine, { logger: options.logger });
    const { results: preflight } = await runPreflight({
      connection: engine.endpoint.connection,
      engine: info,
      request: { ...preflightRequest(defaultClusterConfig()), nodeCount: 3 },
    });
    const privilege = info.privilege;
    const { endpoint } = engine;
    return {
      kur: { version: kurVersion() },
      endpoint: {
        source: endpoint.source,
        description: endpoint.sourceDescription,
        address: endpoint.address,
      },
      engine: {
        provider: info.provider,
        version: info.version,
        apiVersion: info.apiVersion,
        rootless: info.rootless,
        cgroupVersion: info.cgroupVersion ?? null,
        cgroupDriver: info.cgroupDriver,
        limits: info.limits,
        privilege: privilege.kind,
        missingCapabilities: privilege.kind === 'explicit-capabilities' ? privilege.missing : [],
        privilegeReason: privilege.kind === 'privileged' ? null : privilege.reason,
        os: info.os,
        kernel: info.kernel,
        arch: info.arch,
        storageDriver: info.storageDriver,
        runtime: info.defaultRuntime,
        bridgeMtu: info.bridgeMtu ?? null,
        cpus: info.cpus,
        memoryBytes: info.memoryBytes,
        warnings: info.warnings,
      },
      detectMs: info.detectMs,
      preflight,
    };
  } finally {
    engine.close();
  }
}

const privilegeText: Record<InfoReport['engine']['privilege'], string> = {
  privileged: 'privileged containers',
  'explicit-capabilities': 'explicit capabilities (privileged containers fail here)',
  unavailable: 'none: this engine starts no privileged containers',
};

function sourceText(endpoint: InfoReport['endpoint']): string {
  switch (endpoint.source) {
    case 'rootful-docker-socket':
      return 'the rootful Docker socket';
    case 'rootless-docker-socket':
      return 'a rootless Docker socket';
    case 'podman-socket':
      return 'a Podman socket';
    default:
      return `from ${endpoint.description}`;
  }
}

export function renderInfo(report: InfoReport): string {
  const e = report.engine;
  const yesNo = (value: boolean): string => (value ? 'yes' : 'no');
  const limits = Object.entries(e.limits)
    .map(([name, on]) => `${name} ${yesNo(on)}`)
    .join(', ');
  const rows: [string, string][] = [
    ['Endpoint', `${report.endpoint.address} (${sourceText(report.endpoint)})`],
    [
      'Engine',
      `${providerName(e.provider)} ${e.version} (API ${e.apiVersion})${e.rootless ? ', rootless' : ''}`,
    ],
    [
      'Host',
      `${e.os}, kernel ${e.kernel}, ${e.arch}, ${e.cpus} CPUs, ${(e.memoryBytes / 2 ** 30).toFixed(1)} GiB`,
    ],
    [
      'Cgroups',
      `${e.cgroupVersion === null ? 'unknown version' : `v${e.cgroupVersion}`}, driver ${e.cgroupDriver}`,
    ],
    ['Limits', limits],
    ['Storage', `${e.storageDriver}, runtime ${e.runtime}`],
    ['Bridge MTU', e.bridgeMtu === null ? 'not reported' : String(e.bridgeMtu)],
    ['Node privilege', privilegeText[e.privilege]],
  ];
  if (e.missingCapabilities.length > 0) rows.push(['Not grantable', e.missingCapabilities.join(', ')]);
  if (e.privilege === 'unavailable' && e.privilegeReason !== null) rows.push(['Reason', e.privilegeReason]);
  for (const warning of e.warnings) rows.push(['Warning', warning.replace(/^WARNING:\s*/, '')]);
  const width = Math.max(...rows.map(([k]) => k.length));
  const summary = rows.map(([k, v]) => `${`${k}:`.padEnd(width + 2)}${v}`).join('\n');
  return `${summary}\n\nHost checks (what \`kur create cluster\` checks first):\n${renderChecks(report.preflight)}`;
}
