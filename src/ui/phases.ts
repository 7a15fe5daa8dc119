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

/** Phases that run at once, shown as one step with a child each. */
interface PhaseGroup {
  id: string;
  title: string;
  phases: readonly AnyPhase[];
}

type Entry = AnyPhase | PhaseGroup;

function isGroup(entry: Entry): entry is PhaseGroup {
  return 'phases' in entry;
}

export interface PhaseStepsOptions {
  /** Wraps every phase's run (the node image build repeats a long phase's status: heartbeat.ts). */
  wrap?: (step: StepContext, run: (step: StepContext) => Promise<void>) => Promise<void>;
}

export class Pipeline<Ctx, Input extends object, State extends object> {
  private constructor(private readonly phases: readonly Entry[]) {}

  static start<Ctx, Input extends object = object>(): Pipeline<Ctx, Input, Input> {
    return new Pipeline<Ctx, Input, Input>([]);
  }

  then<Out extends object>(phase: Phase<Ctx, State, Out>): Pipeline<Ctx, Input, State & Out> {
    return new Pipeline<Ctx, Input, State & Out>([...this.phases, phase]);
  }

  /**
   * Phases that need only what the phases before them made, not each other, run at once: one
   * step titled `group.title` with a child step each. They add nothing to the state (each returns
   * {}), so none can read what another makes.
   */
  together(
    group: { id: string; title: string },
    ...phases: Phase<Ctx, State, object>[]
  ): Pipeline<Ctx, Input, State> {
    return new Pipeline<Ctx, Input, State>([
      ...this.phases,
      { ...group, phases: phases as unknown as AnyPhase[] },
    ]);
  }

  /** The same pipeline with one phase swapped for another of the same type (tests fake the engine probe). */
  replacing<I, O>(original: Phase<Ctx, I, O>, replacement: Phase<Ctx, I, O>): Pipeline<Ctx, Input, State> {
    const swap = (p: AnyPhase): AnyPhase =>
      p === (original as unknown as AnyPhase) ? (replacement as unknown as AnyPhase) : p;
    return new Pipeline<Ctx, Input, State>(
      this.phases.map((e) => (isGroup(e) ? { ...e, phases: e.phases.map(swap) } : swap(e))),
    );
  }

  /** Top-level step ids, in order (a group's own id, not its phases'). */
  get ids(): string[] {
    return this.phases.map((p) => p.id);
  }

  /** Every phase's id, a group's phases in place of the group. */
  get phaseIds(): string[] {
    return this.phases.flatMap((e) => (isGroup(e) ? e.phases.map((p) => p.id) : [e.id]));
  }

  /**
   * The phases as progress steps over one state object: `input` becomes the state, and holds
   * every phase's result once the steps have run (read it with {@link StateOf}).
   */
  steps(ctx: Ctx, input: Input, options: PhaseStepsOptions = {}): Step[] {
    // Each phase's type guarantees what it reads was put there by the phases before it.
    const state = input as unknown as State;
    const toStep = (phase: AnyPhase): Step => {
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
    };
    return this.phases.map((entry) =>
      isGroup(entry)
        ? {
            id: entry.id,
            title: entry.title,
            run: (step: StepContext) => step.children(entry.phases.map(toStep), { concurrent: true }),
          }
        : toStep(entry),
    );
  }
}

/** The state a pipeline leaves once every phase ran (skipped phases add nothing by contract). */
export type StateOf<P> = P extends Pipeline<never, object, infer S> ? S : never;
