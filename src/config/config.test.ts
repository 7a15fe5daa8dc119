import { expect } from 'chai';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { isKurError, KurError } from '../util/errors.js';
import type { Logger } from '../util/logger.js';
import { defaultClusterConfig, loadClusterConfig, normalizeClusterConfig } from './load.js';
import type { ClusterConfigInput } from './types.js';

const testdata = fileURLToPath(new URL('./testdata/', import.meta.url));

/** Fixture files live in /cfg on a host where only these paths exist. */
const hostPaths = {
  baseDir: '/cfg',
  exists: (path: string) => ['/srv', '/data', '/srv/data', '/tmp/x', '/cfg/data'].includes(path),
};

interface Expectation {
  line: number;
  col: number;
  field: string;
  fragment: string;
}

/** `# expect: 7:19 nodes[0].role | fragment` (also `# also:` and `# warn:`) lines of a fixture. */
function expectations(text: string, tag: string): Expectation[] {
  const out: Expectation[] = [];
  for (const line of text.split('\n')) {
    const m = new RegExp(`^# ${tag}: (\\d+):(\\d+) (\\S+) \\| (.+)$`).exec(line);
    if (m) out.push({ line: Number(m[1]), col: Number(m[2]), field: m[3]!, fragment: m[4]! });
  }
  return out;
}

function capture(): { logger: Logger; warnings: string[] } {
  const warnings: string[] = [];
  const logger: Logger = {
    level: 'info',
    debug: () => undefined,
    info: () => undefined,
    warn: (m) => warnings.push(m),
  };
  return { logger, warnings };
}

function loadError(run: () => unknown): KurError {
  try {
    run();
  } catch (error) {
    if (isKurError(error, 'config')) return error;
    throw error;
  }
  throw new Error('expected a config error, got none');
}

describe('config fixtures', () => {
  describe('valid', () => {
    for (const file of readdirSync(`${testdata}valid`).filter((f) => f.endsWith('.yaml'))) {
      it(file, () => {
        const text = readFileSync(`${testdata}valid/${file}`, 'utf8');
        const expected: unknown = JSON.parse(
          readFileSync(`${testdata}valid/${file.replace(/\.yaml$/, '.json')}`, 'utf8'),
        );
        const { logger, warnings } = capture();
        const config = loadClusterConfig({ text, source: file, logger, hostPaths });
        expect(config).to.deep.equal(expected);
        const wanted = expectations(text, 'warn');
        expect(warnings, warnings.join('\n')).to.have.length(wanted.length);
        wanted.forEach((w, i) => {
          expect(warnings[i]).to.satisfy((s: string) =>
            s.startsWith(`${file}:${w.line}:${w.col}: ${w.field}: `),
          );
          expect(warnings[i]).to.include(w.fragment);
        });
      });
    }
  });

  describe('invalid', () => {
    for (const file of readdirSync(`${testdata}invalid`).filter((f) => f.endsWith('.yaml'))) {
      it(file, () => {
        const text = readFileSync(`${testdata}invalid/${file}`, 'utf8');
        const [first, ...extra] = expectations(text, 'expect');
        expect(first, `${file} has no "# expect:" line`).to.not.equal(undefined);
        expect(extra).to.have.length(0);
        const error = loadError(() => loadClusterConfig({ text, source: file, hostPaths }));
        expect(
          error.message.startsWith(`${file}:${first!.line}:${first!.col}: ${first!.field}: `),
          error.message,
        ).to.equal(true);
        expect(error.message).to.include(first!.fragment);
        const hint = /^# hint: (.+)$/m.exec(text)?.[1];
        expect(hint, `${file} has no "# hint:" line`).to.be.a('string');
        expect(error.hint).to.include(hint);
        const also = expectations(text, 'also');
        for (const a of also) {
          expect(error.detail).to.include(`${file}:${a.line}:${a.col}: ${a.field}: `);
          expect(error.detail).to.include(a.fragment);
        }
        if (also.length === 0) expect(error.detail).to.equal(undefined);
        expect(error.exitCode).to.equal(3);
      });
    }
  });
});

describe('loadClusterConfig', () => {
  const text = 'apiVersion: kur.dev/v1alpha1\nkind: Cluster\nname: from-file\n';

  it('lets --name win over the file and names stdin as given', () => {
    expect(loadClusterConfig({ text, source: '<stdin>', name: 'cli' }).name).to.equal('cli');
    const error = loadError(() =>
      loadClusterConfig({ text: 'apiVersion: x\nkind: Cluster\n', source: '<stdin>' }),
    );
    expect(error.message).to.match(/^<stdin>:1:13: apiVersion: /);
  });

  it('reports a bad --name without pointing into the file', () => {
    const error = loadError(() => loadClusterConfig({ text, source: 'c.yaml', name: 'Bad_Name' }));
    expect(error.message).to.equal('name: (--name) "Bad_Name" is not a valid cluster name');
  });

  it('maps an error inside a literal patch block to its file line and column', () => {
    const patched = [
      'apiVersion: kur.dev/v1alpha1',
      'kind: Cluster',
      'containerdConfigPatches:',
      '  - |',
      '    [plugins."io.containerd.cri.v1.images"]',
      '    snapshotter = native',
      '',
    ].join('\n');
    const error = loadError(() => loadClusterConfig({ text: patched, source: 'p.yaml' }));
    // Line 6 of the file; `native` starts at column 19 (4 spaces of block indent + column 15).
    expect(error.message).to.match(/^p\.yaml:6:19: containerdConfigPatches\[0\]: invalid TOML/);
  });
});

describe('normalizeClusterConfig (library options)', () => {
  it('applies the same defaults as a file', () => {
    const fromFile = loadClusterConfig({
      text: 'apiVersion: kur.dev/v1alpha1\nkind: Cluster\n',
      source: 'f',
    });
    expect(normalizeClusterConfig({})).to.deep.equal(fromFile);
    expect(defaultClusterConfig()).to.deep.equal(fromFile);
    expect(defaultClusterConfig('dev').name).to.equal('dev');
  });

  it('rejects wrong types from JavaScript callers, naming the field', () => {
    const input = {
      nodes: [{ extraPortMappings: [{ containerPort: '80' }] }],
    } as unknown as ClusterConfigInput;
    const error = loadError(() => normalizeClusterConfig(input));
    expect(error.message).to.equal(
      'nodes[0].extraPortMappings[0].containerPort: expected an integer, got the string "80"',
    );
  });

  it('validates objects as it validates files', () => {
    const error = loadError(() => normalizeClusterConfig({ networking: { podSubnet: '10.96.0.0/12' } }));
    expect(error.message).to.match(/^networking\.serviceSubnet: 10\.96\.0\.0\/16 overlaps podSubnet/);
    expect(error).to.be.instanceOf(KurError);
  });
});
