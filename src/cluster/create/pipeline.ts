import type { Step, StepContext } from '../../ui/progress.js';

/**
 * A use case as a list of named phases. Each phase takes what the phases before it produced
 * (typed: a phase that needs `plan` cannot be listed before the one that makes it) and returns
 * what it adds; the runner merges the results, so no phase reads optional state with `!`.
 */
export interface Phase<In, Out> {
  id: string;
  title: string;
  /** A reason to skip the phase (it then adds nothing, so only phases that return {} may skip). */
  skip?: (input: In) => string | false;
  run: (input: In, step: StepContext) => Promise<Out>;
}

type AnyPhase = Phase<never, object>;

export class Pipeline<Input extends object, State extends object> {
  private constructor(private readonly phases: readonly AnyPhase[]) {}

  static start<Input extends object>(): Pipeline<Input, Input> {
    return new Pipeline<Input, Input>([]);
  }

  then<Out extends object>(phase: Phase<State, Out>): Pipeline<Input, State & Out> {
    return new Pipeline<Input, State & Out>([...this.phases, phase]);
  }

  /** The same pipeline with one phase swapped for another of the same type (tests fake the engine probe). */
  replacing<I, O>(original: Phase<I, O>, replacement: Phase<I, O>): Pipeline<Input, State> {
    return new Pipeline<Input, State>(
      this.phases.map((p) =>
        p === (original as unknown as AnyPhase) ? (replacement as unknown as AnyPhase) : p,
      ),
    );
  }

  get ids(): string[] {
    return this.phases.map((p) => p.id);
  }

  /**
   * The phases as progress steps over one state object: `state` starts as the input and holds
   * every phase's result once the steps have run.
   */
  steps(input: Input): Step[] {
    // Each phase's type guarantees what it reads was put there by the phases before it.
    const state = input as unknown as State;
    return this.phases.map((phase) => {
      const typed = phase as unknown as Phase<State, object>;
      return {
        id: phase.id,
        title: phase.title,
        ...(typed.skip !== undefined ? { skip: () => typed.skip!(state) } : {}),
        run: async (step: StepContext) => {
          Object.assign(state, await typed.run(state, step));
        },
      };
    });
  }
}

/** The state a pipeline leaves once every phase ran (skipped phases add nothing by contract). */
export type StateOf<P> = P extends Pipeline<object, infer S> ? S : never;
