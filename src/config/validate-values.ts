import type { Ipv4Cidr } from './net.js';
import { parseIpv4Cidr } from './net.js';
import type { ConfigPath, ProblemList } from './problems.js';
import { closest } from '../patch/suggest.js';

/** Small checks several validators share. */

export function checkPort(port: number, path: ConfigPath, zeroAllowed: boolean, problems: ProblemList): void {
  const min = zeroAllowed ? 0 : 1;
  if (port < min || port > 65535) {
    problems.add({
      path,
      problem: `must be between ${min} and 65535, got ${port}`,
      hint: zeroAllowed ? 'Use 0 to let kur pick a free port.' : 'Use a port between 1 and 65535.',
    });
  }
}

export function checkCidr(text: string, path: ConfigPath, problems: ProblemList): Ipv4Cidr | undefined {
  const result = parseIpv4Cidr(text);
  if (result.ok) return result.cidr;
  problems.add({
    path,
    problem: `${JSON.stringify(text)} ${result.problem}`,
    hint:
      result.canonical !== undefined
        ? `Write ${result.canonical}.`
        : 'Write an IPv4 network like 10.244.0.0/16.',
  });
  return undefined;
}

export function suggestion(value: string, allowed: readonly string[]): string {
  const guess = closest(value, allowed);
  return guess !== undefined ? `Did you mean ${guess}?` : `Use one of ${allowed.join(', ')}.`;
}
