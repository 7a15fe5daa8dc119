import { expect } from 'chai';
import { runSteps, type ProgressEvent } from './progress.js';

describe('progress steps', () => {
  it('runs steps in order, children concurrently, and reports timings and events', async () => {
    const order: string[] = [];
    const events: ProgressEvent[] = [];
    const timings = await runSteps(
      [
        { title: 'first', run: () => void order.push('first') },
        {
          title: 'nodes',
          run: (step) =>
            step.children(
              ['a', 'b'].map((n) => ({
                title: n,
                run: async () => {
                  await new Promise((r) => setTimeout(r, n === 'a' ? 20 : 1));
                  order.push(n);
                },
              })),
              { concurrent: true },
            ),
        },
        {
          id: 'skip-me',
          title: 'skipped',
          skip: () => 'nothing to do',
          run: () => void order.push('skipped'),
        },
      ],
      { renderer: 'silent', onEvent: (e) => events.push(e) },
    );
    expect(order).to.deep.equal(['first', 'b', 'a']);
    expect(timings.map((t) => t.path.join('/'))).to.include.members(['first', 'nodes/a', 'nodes/b', 'nodes']);
    expect(events).to.deep.include({
      type: 'skip',
      path: ['skipped'],
      ids: ['skip-me'],
      reason: 'nothing to do',
    });
    // Steps without an id get their title in kebab case.
    expect(timings.find((t) => t.path.join('/') === 'nodes/a')?.ids).to.deep.equal(['nodes', 'a']);
  });

  it('stops at the first failure and reports it', async () => {
    const events: ProgressEvent[] = [];
    let ranAfter = false;
    let failure: unknown;
    try {
      await runSteps(
        [
          {
            title: 'breaks',
            run: () => {
              throw new Error('boom');
            },
          },
          { title: 'after', run: () => void (ranAfter = true) },
        ],
        { renderer: 'silent', onEvent: (e) => events.push(e) },
      );
    } catch (error) {
      failure = error;
    }
    expect(String(failure)).to.contain('boom');
    expect(ranAfter).to.equal(false);
    expect(events.some((e) => e.type === 'fail' && e.path[0] === 'breaks')).to.equal(true);
  });

  it('refuses to start steps once the signal is aborted', async () => {
    const controller = new AbortController();
    let ran = false;
    let failure: unknown;
    try {
      await runSteps(
        [
          { title: 'cancel', run: () => controller.abort(new Error('interrupted')) },
          { title: 'never', run: () => void (ran = true) },
        ],
        { renderer: 'silent', signal: controller.signal },
      );
    } catch (error) {
      failure = error;
    }
    expect(ran).to.equal(false);
    expect(String(failure)).to.contain('interrupted');
  });

  for (const renderer of ['plain', 'interactive'] as const) {
    it(`writes ${renderer} progress to stderr only, so stdout carries nothing but results`, async () => {
      const written = { stdout: '', stderr: '' };
      const originals = {
        stdout: process.stdout.write.bind(process.stdout),
        stderr: process.stderr.write.bind(process.stderr),
      };
      const capture = (stream: 'stdout' | 'stderr') =>
        ((chunk: string | Uint8Array) => {
          written[stream] += chunk.toString();
          return true;
        }) as typeof process.stdout.write;
      process.stdout.write = capture('stdout');
      process.stderr.write = capture('stderr');
      try {
        await runSteps([{ title: 'visible step', run: (step) => step.status('halfway') }], { renderer });
      } finally {
        process.stdout.write = originals.stdout;
        process.stderr.write = originals.stderr;
      }
      expect(written.stdout).to.equal('');
      expect(written.stderr).to.contain('visible step');
    });
  }
});
