import { expect } from 'chai';
import { abortOnSignals } from './signals.js';

describe('signals to aborts', () => {
  it('aborts the work on SIGINT, tells the policy, and removes its handlers afterwards', async () => {
    const before = { int: process.listenerCount('SIGINT'), term: process.listenerCount('SIGTERM') };
    const notices: string[] = [];
    const reason = await abortOnSignals(
      { notice: (signal, count) => notices.push(`${signal} ${count}`), exitOnSecond: false },
      (signal) =>
        new Promise<unknown>((resolve) => {
          signal.addEventListener('abort', () => resolve(signal.reason));
          process.emit('SIGINT', 'SIGINT');
          process.emit('SIGTERM', 'SIGTERM');
        }),
    );
    expect(String(reason)).to.equal('Error: interrupted by SIGINT');
    expect(notices).to.deep.equal(['SIGINT 1', 'SIGTERM 2']);
    expect(process.listenerCount('SIGINT')).to.equal(before.int);
    expect(process.listenerCount('SIGTERM')).to.equal(before.term);
  });
});
