import type { Step, StepContext } from './progress.js';

/**
 * A use case as a list of named phases (create, start, the node image build). Each phase gets
 * the run's context (options, engine, logger: the same for every phase) and what the phases
 * before it produced (typed: a phase that needs `plan` cannot be listed before the one that
 * makes it), and returns what it adds; results accumulate in one state object, so no phase reads
 * optional state with `!`.
 */
export interface Phase<Ctx, In, Out> {
  /** Stable id: what tests and `--output json` match. */
  id: string;
  title: string | ((ctx: Ctx) => string);
  /** A reason to skip the phase (it then adds nothing, so only phases that return {} may skip). */
  skip?: (input: In, ctx: Ctx) => string | false;
  run: (input: In, ctx: Ctx, step: StepContext) => Promise<Out>;
}

type AnyPhase = Phase<never, never, object>;

export interface PhaseStepsOptions {
  /** Wraps every phase's run (the node image build repeats a long phase's status: heartbeat.ts). */
  wrap?: (step: StepContext, run: (step: StepContext) => Promise<void>) => Promise<void>;
}

export class Pipeline<Ctx, Input extends object, State extends object> {
  private constructor(private readonly phases: readonly AnyPhase[]) {}

  static start<Ctx, Input extends object = object>(): Pipeline<Ctx, Input, Input> {
    return new Pipeline<Ctx, Input, Input>([]);
  }

  then<Out extends object>(phase: Phase<Ctx, State, Out>): Pipeline<Ctx, Input, State & Out> {
    return new Pipeline<Ctx, Input, State & Out>([...this.phases, phase]);
  }

  /** The same pipeline with one phase swapped for another of the same type (tests fake the engine probe). */
  replacing<I, O>(original: Phase<Ctx, I, O>, replacement: Phase<Ctx, I, O>): Pipeline<Ctx, Input, State> {
    return new Pipeline<Ctx, Input, State>(
      this.phases.map((p) =>
        p === (original as unknown as AnyPhase) ? (replacement as unknown as AnyPhase) : p,
      ),
    );
  }

  get ids(): string[] {
    return this.phases.map((p) => p.id);
  }

  /**
   * The phases as progress steps over one state object: `input` becomes the state, and holds
   * every phase's result once the steps have run (read it with {@link StateOf}).
   */
  steps(ctx: Ctx, input: Input, options: PhaseStepsOptions = {}): Step[] {
    // Each phase's type guarantees what it reads was put there by the phases before it.
    const state = input as unknown as State;
    return this.phases.map((phase) => {
      const typed = phase as unknown as Phase<Ctx, State, object>;
      const run = async (step: StepContext): Promise<void> => {
        Object.assign(state, await typed.run(state, ctx, step));
      };
      return {
        id: phase.id,
        title: typeof typed.title === 'string' ? typed.title : typed.title(ctx),
        ...(typed.skip !== undefined ? { skip: () => typed.skip!(state, ctx) } : {}),
        run: options.wrap === undefined ? run : (step: StepContext) => options.wrap!(step, run),
      };
    });
  }
}

/** The state a pipeline leaves once every phase ran (skipped phases add nothing by contract). */
export type StateOf<P> = P extends Pipeline<never, object, infer S> ? S : never;
