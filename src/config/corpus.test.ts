import { expect } from 'chai';
import { isKurError } from '../util/errors.js';
import type { KurError } from '../util/errors.js';
import { loadClusterConfig } from './load.js';
import { maxListedProblems } from './problems.js';
import { maxConfigBytes } from './source.js';
import { documentsCases } from './corpus-documents.test.js';
import { hostPaths, kur } from './corpus-cases.test.js';
import type { Case } from './corpus-cases.test.js';
import { patchesCases } from './corpus-patches.test.js';
import { valuesCases } from './corpus-values.test.js';

const cases: Case[] = [...documentsCases, ...valuesCases, ...patchesCases];

/**
 * Milliseconds of CPU this process spent since `since` (process.cpuUsage()): the budget is kur's
 * own work, which a busy shared machine must not turn into a wall-clock failure.
 */
function cpuMsSince(since: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1000;
}

function fail(c: Case, text: string): { error: KurError; ms: number } {
  const started = process.cpuUsage();
  try {
    loadClusterConfig({ text, source: c.source ?? 'c.yaml', hostPaths });
  } catch (error) {
    if (isKurError(error, 'config')) return { error, ms: cpuMsSince(started) };
    throw error;
  }
  throw new Error(`${c.title}: expected a config error, got none`);
}

describe('config error corpus (each fails as a config error, in under a second)', () => {
  before(() => {
    // Warm the parser and the field lists up, so the first row is not timed with the JIT.
    for (const c of cases.slice(0, 5)) fail(c, c.lines.join('\n'));
  });

  it('holds at least 100 cases', () => {
    expect(cases.length).to.be.at.least(100);
  });

  for (const c of cases) {
    it(c.title, () => {
      const source = c.source ?? 'c.yaml';
      const { error, ms } = fail(c, c.lines.join('\n'));
      const [pos, field] = c.at.split(' ') as [string, string];
      expect(error.message, error.message).to.satisfy((m: string) =>
        m.startsWith(`${source}:${pos}: ${field}: `),
      );
      expect(error.message).to.include(c.problem);
      expect(error.hint ?? '').to.include(c.hint);
      expect(error.exitCode).to.equal(3);
      expect(ms, 'milliseconds').to.be.below(1000);
    });
  }
});

/** Valid inputs at the limits, and inputs past them. */
describe('config limits (linear, bounded, refused at once)', () => {
  const timed = (run: () => void): number => {
    const started = process.cpuUsage();
    run();
    return cpuMsSince(started);
  };
  const error = (text: string): KurError => {
    try {
      loadClusterConfig({ text, source: 'big.yaml', hostPaths });
    } catch (e) {
      if (isKurError(e, 'config')) return e;
      throw e;
    }
    throw new Error('expected a config error');
  };

  it(`refuses a file over ${maxConfigBytes} bytes before parsing it`, () => {
    const text = `${kur.join('\n')}\n#${'x'.repeat(maxConfigBytes)}\n`;
    let e: KurError | undefined;
    expect(timed(() => (e = error(text)))).to.be.below(1000);
    expect(e!.message).to.match(/^big\.yaml:1:1: \(document\): the file has \d+ bytes, more than the 262144/);
    expect(e!.hint).to.match(/keep large data/);
  });

  it('finds a duplicate among ~13,000 generated keys just under the size limit, in under a second', () => {
    const gates: string[] = [];
    let size = 0;
    for (let i = 0; size < maxConfigBytes - 1000; i++) {
      const line = `  Gate${i}: true`;
      gates.push(line);
      size += line.length + 1;
    }
    const text = [...kur, 'featureGates:', ...gates, '  Gate7: false', ''].join('\n');
    let e: KurError | undefined;
    expect(timed(() => (e = error(text)))).to.be.below(1000);
    expect(e!.message).to.match(
      new RegExp(`^big\\.yaml:${gates.length + 4}:3: \\(document\\): .*"Gate7" is repeated`),
    );
  });

  it('caps the problems it lists: the first 20, then how many more', () => {
    const labels = Array.from({ length: 5000 }, (_, i) => `      "bad key ${i}": x`);
    const text = [...kur, 'nodes:', '  - labels:', ...labels, ''].join('\n');
    let e: KurError | undefined;
    expect(timed(() => (e = error(text)))).to.be.below(1000);
    expect(e!.message).to.match(/\(and 4999 more problems, listed below\)$/);
    const lines = e!.detail!.split('\n');
    expect(lines.filter((l) => l.startsWith('big.yaml:'))).to.have.length(maxListedProblems);
    expect(lines[lines.length - 1]).to.equal('... and 4980 more problems');
  });

  it('refuses flow nesting deeper than 50 levels without a stack overflow', () => {
    const deep = `${kur.join('\n')}\nnodes: ${'['.repeat(100_000)}${']'.repeat(100_000)}\n`;
    let e: KurError | undefined;
    expect(timed(() => (e = error(deep)))).to.be.below(1000);
    expect(e!.message).to.equal('big.yaml:3:58: (document): the YAML nests deeper than 50 levels');
    expect(e!.hint).to.match(/flatten the structure/);
  });

  it('refuses block nesting deeper than 50 levels', () => {
    const lines = Array.from({ length: 60 }, (_, i) => `${' '.repeat(i)}k${i}:`);
    const e = error([...kur, 'networking:', ...lines.map((l) => ` ${l}`), ''].join('\n'));
    expect(e.message).to.match(/^big\.yaml:\d+:\d+: \(document\): the YAML nests deeper than 50 levels$/);
  });

  it('refuses deep nesting inside a patch', () => {
    const patch = `${'['.repeat(60)}${']'.repeat(60)}`;
    const e = error(
      [...kur, 'kubeadmConfigPatchesJSON6902:', `  - {kind: InitConfiguration, patch: "${patch}"}`].join(
        '\n',
      ),
    );
    expect(e.message).to.match(
      /kubeadmConfigPatchesJSON6902\[0\]\.patch: the YAML nests deeper than 50 levels/,
    );
  });

  it('refuses more than 100 aliases (no expansion blow-up)', () => {
    const aliases = Array.from({ length: 101 }, (_, i) => `  L${i}: *v`);
    const e = error([...kur, 'x: &v a', 'runtimeConfig:', ...aliases, ''].join('\n'));
    expect(e.message).to.match(/more than 100 aliases/);
  });
});

describe('config limits inside patches', () => {
  it('lists thousands of unknown fields of one patch in under a second (positions found in linear time)', () => {
    const fields = Array.from({ length: 12_000 }, (_, i) => `    nope${i}: 1`);
    const text = [
      ...kur,
      'kubeadmConfigPatches:',
      '  - |',
      '    kind: KubeletConfiguration',
      ...fields,
      '',
    ].join('\n');
    const started = process.cpuUsage();
    let message = '';
    try {
      loadClusterConfig({ text, source: 'p.yaml', hostPaths });
    } catch (error) {
      if (!isKurError(error, 'config')) throw error;
      message = error.message;
    }
    expect(cpuMsSince(started)).to.be.below(1000);
    expect(message).to.match(
      /^p\.yaml:6:5: kubeadmConfigPatches\[0\]: KubeletConfiguration has no field "nope0".*\(and 11999 more problems/,
    );
  });
});
