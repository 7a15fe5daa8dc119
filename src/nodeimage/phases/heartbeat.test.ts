import { expect } from 'chai';
import type { StepContext } from '../../ui/progress.js';
import { withHeartbeat } from './heartbeat.js';

function recorder(): { step: StepContext; said: string[] } {
  const said: string[] = [];
  const step: StepContext = {
    status: (text) => said.push(text),
    children: () => Promise.resolve(),
    signal: new AbortController().signal,
  };
  return { step, said };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('withHeartbeat', () => {
  it('repeats the latest status with the elapsed time while a phase is silent', async () => {
    const { step, said } = recorder();
    const started = Date.now();
    await withHeartbeat(
      step,
      40,
      async (context) => {
        context.status('mmdebstrap');
        await sleep(150);
      },
      10,
    );
    expect(said[0]).to.equal('mmdebstrap');
    const beats = said.slice(1);
    // One beat per 40 ms of silence at most, however late the timers run on a loaded machine.
    expect(beats.length).to.be.within(1, Math.floor((Date.now() - started) / 40));
    for (const beat of beats) expect(beat).to.match(/^mmdebstrap \(\d+ms elapsed\)$/);
  });

  it('says nothing extra while statuses keep coming, and stops when the phase ends', async () => {
    const { step, said } = recorder();
    await withHeartbeat(
      step,
      400,
      async (context) => {
        for (let i = 0; i < 6; i++) {
          context.status(`${i}/6 packages`);
          await sleep(15);
        }
      },
      5,
    );
    expect(said).to.deep.equal([
      '0/6 packages',
      '1/6 packages',
      '2/6 packages',
      '3/6 packages',
      '4/6 packages',
      '5/6 packages',
    ]);
    await sleep(450);
    expect(said).to.have.length(6);
  });

  it('reports elapsed time alone when the phase never set a status, and passes failures through', async () => {
    const { step, said } = recorder();
    const failing = withHeartbeat(
      step,
      20,
      async () => {
        await sleep(50);
        throw new Error('broken');
      },
      5,
    );
    await failing.then(
      () => expect.fail('should reject'),
      (error: Error) => expect(error.message).to.equal('broken'),
    );
    expect(said.length).to.be.greaterThan(0);
    expect(said[0]).to.match(/^\d+ms elapsed$/);
  });
});
