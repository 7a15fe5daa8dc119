import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { classifyGoLine, countListed, goBuildErrors, GoBuildProgress, throttled } from './go-progress.js';

/**
 * Recorded with go1.26.8 from images/go/flannel-cni (testdata/*.txt):
 * - go-list-stale.txt: `go list -deps -trimpath -buildvcs=false -mod=readonly '-ldflags=-s -w'
 *   -f '{{if .Stale}}{{.ImportPath}}{{end}}' .` on an empty GOCACHE,
 * - go-build-v.txt: the stderr of `go build -v` with the same flags and cache right after,
 * - go-build-v-downloads.txt: the same build with an empty module cache and a partly warm GOCACHE,
 * - go-build-v-error.txt: `go build -v` of a main package naming an undefined identifier.
 */
const recorded = (name: string): string =>
  readFileSync(fileURLToPath(new URL(`testdata/${name}`, import.meta.url)), 'utf8');

const label = 'go build flannel (flannel-cni v0.1.0)';

function replay(progress: GoBuildProgress, text: string): string[] {
  const shown: string[] = [];
  for (const line of text.split('\n')) if (progress.feed(line)) shown.push(progress.text());
  return shown;
}

describe('go build progress', () => {
  it('counts the packages go list says are stale, and each one go build -v compiles', () => {
    const total = countListed(recorded('go-list-stale.txt'));
    expect(total).to.equal(211);
    const progress = new GoBuildProgress(label);
    expect(progress.text()).to.equal(label);
    progress.setTotal(total);
    const shown = replay(progress, recorded('go-build-v.txt'));
    expect(shown).to.have.length(211);
    expect(shown[0]).to.equal(`${label}: 1/211 packages compiled`);
    expect(shown[104]).to.equal(`${label}: 105/211 packages compiled`);
    expect(shown.at(-1)).to.equal(`${label}: 211/211 packages compiled, linking`);
  });

  it('says which module it downloads before compiling, and counts without a total', () => {
    const progress = new GoBuildProgress(label);
    const shown = replay(progress, recorded('go-build-v-downloads.txt'));
    expect(shown.slice(0, 2)).to.deep.equal([
      `${label}: downloading github.com/containernetworking/cni v1.3.1`,
      `${label}: downloading go.opentelemetry.io/otel v1.29.0`,
    ]);
    expect(shown.at(-1)).to.equal(`${label}: 150 packages compiled`);
  });

  it('never shows more compiled than the total (go list may look after the build began)', () => {
    const progress = new GoBuildProgress(label);
    progress.setTotal(3);
    replay(progress, 'a/b\nc/d\ne\nf\n');
    expect(progress.text()).to.equal(`${label}: 4/4 packages compiled, linking`);
  });

  it('tells package lines from errors, and keeps only the errors for the report', () => {
    const output = recorded('go-build-v-error.txt');
    expect(classifyGoLine('example.test/broken')).to.deep.equal({
      kind: 'package',
      path: 'example.test/broken',
    });
    expect(classifyGoLine('# example.test/broken').kind).to.equal('other');
    expect(classifyGoLine('./main.go:6:14: undefined: undefinedName').kind).to.equal('other');
    expect(classifyGoLine('').kind).to.equal('other');
    expect(goBuildErrors(output)).to.equal('# example.test/broken\n./main.go:6:14: undefined: undefinedName');
  });
});

describe('throttled status', () => {
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  it('sends the first text at once, then the latest at most once per interval', async () => {
    const sent: string[] = [];
    const status = throttled((text) => sent.push(text), 60);
    for (let i = 1; i <= 5; i++) status.update(`${i}`);
    expect(sent).to.deep.equal(['1']);
    await sleep(120);
    expect(sent).to.deep.equal(['1', '5']);
    status.update('6');
    status.flush();
    expect(sent).to.deep.equal(['1', '5', '6']);
    status.flush();
    expect(sent).to.have.length(3);
  });
});
