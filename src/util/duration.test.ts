import { expect } from 'chai';
import { formatDuration, parseDuration } from './duration.js';

describe('durations', () => {
  for (const [text, ms] of [
    ['0', 0],
    ['90s', 90_000],
    ['5m', 300_000],
    ['1h30m', 5_400_000],
    ['1.5s', 1500],
    ['250ms', 250],
  ] as const) {
    it(`parses ${text}`, () => expect(parseDuration(text)).to.equal(ms));
  }
  for (const bad of ['', '5', 'm5', '5x', '1h junk', '-5s']) {
    it(`rejects "${bad}" naming the flag`, () =>
      expect(() => parseDuration(bad, '--wait')).to.throw(/--wait/));
  }
  it('formats', () => {
    expect([formatDuration(420), formatDuration(1234), formatDuration(123_000)]).to.deep.equal([
      '420ms',
      '1.2s',
      '2m3s',
    ]);
  });
});
