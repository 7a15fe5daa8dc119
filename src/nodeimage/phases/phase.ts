import type { Step, StepContext } from '../../ui/progress.js';
import { withHeartbeat } from './heartbeat.js';
import type { BuildInputs } from './inputs.js';

/**
 * One named phase of the node image build: it takes the previous phase's result and returns its
 * own, which the next phase takes. `id` is stable (tests and tools match it); the title is what
 * people read and may change.
 */
export interface Phase<In, Out> {
  id: string;
  title: (inputs: BuildInputs) => string;
  run: (input: In, inputs: BuildInputs, step: StepContext) => Promise<Out>;
}

/**
 * The phases in order, as steps for the step runner. `then` only accepts a phase whose input is
 * the previous phase's output, so the order is checked by the compiler; each phase's result is
 * kept for the next one and `result()` returns the last.
 */
export interface PhaseList<T> {
  readonly steps: Step[];
  then<Out>(phase: Phase<T, Out>): PhaseList<Out>;
  result(): T;
}

export interface PhaseListOptions {
  /** Re-emit the latest status after this much silence (see heartbeat.ts). */
  heartbeatMs?: number;
}

export function phaseList(inputs: BuildInputs, options: PhaseListOptions = {}): PhaseList<void> {
  const results: unknown[] = [undefined];
  const steps: Step[] = [];
  const list = <T>(): PhaseList<T> => ({
    steps,
    then<Out>(phase: Phase<T, Out>): PhaseList<Out> {
      const index = results.length;
      results.push(new NotRun(phase.id));
      steps.push({
        id: phase.id,
        title: phase.title(inputs),
        run: (step) =>
          withHeartbeat(step, options.heartbeatMs, async (context) => {
            results[index] = await phase.run(take<T>(results, index - 1), inputs, context);
          }),
      });
      return list<Out>();
    },
    result: () => take<T>(results, results.length - 1),
  });
  return list<void>();
}

/** The place of a result whose phase has not run yet. */
class NotRun {
  constructor(readonly id: string) {}
}

function take<T>(results: unknown[], index: number): T {
  const result = results[index];
  if (result instanceof NotRun) throw new Error(`node image build: phase ${result.id} did not run`);
  return result as T;
}
