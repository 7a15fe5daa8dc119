import { expect } from 'chai';
import { Pipeline, type Phase, type StateOf } from './phases.js';
import { runSteps, type StepContext } from './progress.js';

interface Ctx {
  base: number;
}

describe('phase pipeline', () => {
  const count: Phase<Ctx, object, { counted: number }> = {
    id: 'count',
    title: (ctx) => `Count from ${ctx.base}`,
    run: (_input, ctx) => Promise.resolve({ counted: ctx.base + 1 }),
  };
  const double: Phase<Ctx, { counted: number }, { doubled: number }> = {
    id: 'double',
    title: 'Double',
    run: (input) => Promise.resolve({ doubled: input.counted * 2 }),
  };
  const maybe: Phase<Ctx, { doubled: number }, object> = {
    id: 'maybe',
    title: 'Maybe',
    skip: (input) => (input.doubled > 5 ? 'large enough' : false),
    run: () => Promise.reject(new Error('must be skipped')),
  };
  const pipeline = Pipeline.start<Ctx>().then(count).then(double).then(maybe);

  it('hands each phase the context and the results of the phases before it, and reports ids', async () => {
    expect(pipeline.ids).to.deep.equal(['count', 'double', 'maybe']);
    const state = {};
    const skipped: string[][] = [];
    const steps = pipeline.steps({ base: 2 }, state);
    expect(steps.map((s) => s.title)).to.deep.equal(['Count from 2', 'Double', 'Maybe']);
    const timings = await runSteps(steps, {
      renderer: 'silent',
      onEvent: (e) => e.type === 'skip' && skipped.push(e.ids),
    });
    const done = state as StateOf<typeof pipeline>;
    expect(done).to.deep.equal({ counted: 3, doubled: 6 });
    expect(timings.map((t) => t.ids)).to.deep.equal([['count'], ['double']]);
    expect(skipped).to.deep.equal([['maybe']]);
  });

  it('wraps every phase when asked (the node image build adds a heartbeat)', async () => {
    const wrapped: string[] = [];
    const wrap = async (step: StepContext, run: (s: StepContext) => Promise<void>): Promise<void> => {
      wrapped.push('before');
      await run(step);
      wrapped.push('after');
    };
    await runSteps(pipeline.steps({ base: 5 }, {}, { wrap }), { renderer: 'silent' });
    // The skipped phase does not run, so it is not wrapped either.
    expect(wrapped).to.deep.equal(['before', 'after', 'before', 'after']);
  });

  it('runs a group of phases at once as one step with a child each, skips included', async () => {
    const log: string[] = [];
    const slow = (id: string, ms: number): Phase<Ctx, { counted: number }, object> => ({
      id,
      title: id,
      run: async () => {
        log.push(`${id} starts`);
        await new Promise((resolve) => setTimeout(resolve, ms));
        log.push(`${id} ends`);
        return {};
      },
    });
    const skipped: Phase<Ctx, { counted: number }, object> = {
      id: 'never',
      title: 'never',
      skip: () => 'not needed',
      run: () => Promise.reject(new Error('must be skipped')),
    };
    const grouped = Pipeline.start<Ctx>()
      .then(count)
      .together({ id: 'both', title: 'Both' }, slow('a', 30), slow('b', 10), skipped)
      .then(double);
    expect(grouped.ids).to.deep.equal(['count', 'both', 'double']);
    expect(grouped.phaseIds).to.deep.equal(['count', 'a', 'b', 'never', 'double']);
    const state = {};
    const timings = await runSteps(grouped.steps({ base: 1 }, state), { renderer: 'silent' });
    expect(log).to.deep.equal(['a starts', 'b starts', 'b ends', 'a ends']);
    expect(state).to.deep.equal({ counted: 2, doubled: 4 });
    expect(timings.map((t) => t.ids)).to.deep.equal([
      ['count'],
      ['both', 'b'],
      ['both', 'a'],
      ['both'],
      ['double'],
    ]);
  });
});
