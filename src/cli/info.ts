import type { Command } from 'commander';
import { info, type InfoReport } from '../api/info.js';
import { providerName } from '../engine/endpoint.js';
import { renderChecks } from '../preflight/index.js';
import { contextFrom, engineOptions } from './context.js';
import { printResult } from './output.js';

export function registerInfo(program: Command): void {
  program
    .command('info')
    .description('show the engine kur would use: where it was found, what it is, what it allows')
    .action(async (_opts, command: Command) => {
      const ctx = contextFrom(command);
      const report = await info(engineOptions(ctx));
      printResult(ctx, report, renderInfo);
    });
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
