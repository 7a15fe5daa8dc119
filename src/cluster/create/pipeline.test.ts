import { expect } from 'chai';
import { runSteps } from '../../ui/progress.js';
import { Pipeline, type Phase } from './pipeline.js';

describe('phase pipeline', () => {
  const count: Phase<{ start: number }, { counted: number }> = {
    id: 'count',
    title: 'Count',
    run: (input) => Promise.resolve({ counted: input.start + 1 }),
  };
  const double: Phase<{ counted: number }, { doubled: number }> = {
    id: 'double',
    title: 'Double',
    run: (input) => Promise.resolve({ doubled: input.counted * 2 }),
  };
  const maybe: Phase<{ doubled: number }, object> = {
    id: 'maybe',
    title: 'Maybe',
    skip: (input) => (input.doubled > 5 ? 'large enough' : false),
    run: () => Promise.reject(new Error('must be skipped')),
  };

  it('hands each phase the results of the phases before it, and reports ids', async () => {
    const pipeline = Pipeline.start<{ start: number }>().then(count).then(double).then(maybe);
    expect(pipeline.ids).to.deep.equal(['count', 'double', 'maybe']);
    const state = { start: 2 };
    const skipped: string[][] = [];
    const timings = await runSteps(pipeline.steps(state), {
      renderer: 'silent',
      onEvent: (e) => e.type === 'skip' && skipped.push(e.ids),
    });
    expect(state).to.deep.include({ start: 2, counted: 3, doubled: 6 });
    expect(timings.map((t) => t.ids)).to.deep.equal([['count'], ['double']]);
    expect(skipped).to.deep.equal([['maybe']]);
  });
});
