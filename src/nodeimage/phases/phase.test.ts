import { expect } from 'chai';
import { runSteps } from '../../ui/progress.js';
import type { BuildInputs } from './inputs.js';
import { phaseList, type Phase } from './phase.js';

const inputs = { version: 'v1.37.2' } as BuildInputs;

const count: Phase<void, { n: number }> = {
  id: 'test.count',
  title: ({ version }) => `count for ${version}`,
  run: async () => Promise.resolve({ n: 1 }),
};
const double: Phase<{ n: number }, { n: number; doubled: number }> = {
  id: 'test.double',
  title: () => 'double',
  run: async ({ n }, _inputs, step) => {
    step.status(`doubling ${n}`);
    return Promise.resolve({ n, doubled: n * 2 });
  },
};

describe('phaseList', () => {
  it('runs phases in order, each on the previous result, as titled steps', async () => {
    const phases = phaseList(inputs).then(count).then(double);
    expect(phases.steps.map((s) => s.title)).to.deep.equal(['count for v1.37.2', 'double']);
    const events: string[] = [];
    await runSteps(phases.steps, {
      renderer: 'silent',
      onEvent: (e) =>
        events.push(`${e.type} ${e.path.join(' > ')}${e.type === 'status' ? `: ${e.text}` : ''}`),
    });
    expect(phases.result()).to.deep.equal({ n: 1, doubled: 2 });
    expect(events).to.deep.equal([
      'start count for v1.37.2',
      'done count for v1.37.2',
      'start double',
      'status double: doubling 1',
      'done double',
    ]);
  });

  it('names the phase whose result is asked for before it ran', () => {
    const phases = phaseList(inputs).then(count).then(double);
    expect(() => phases.result()).to.throw('phase test.double did not run');
  });
});
