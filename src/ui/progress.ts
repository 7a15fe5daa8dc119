import {
  DefaultRenderer,
  Listr,
  ListrLogger,
  PRESET_TIMER,
  ProcessOutput,
  SilentRenderer,
  SimpleRenderer,
  type ListrTask,
  type ListrTaskWrapper,
} from 'listr2';

/**
 * Long work (node image builds, cluster creation) is a tree of steps. The core declares the
 * steps once; how they are shown depends on who is watching: listr2's interactive renderer on a
 * terminal, plain timed lines in CI or with -v, nothing but events for library callers.
 * Every step's duration is recorded so benchmarks and `--output json` can report phases.
 */
export interface Step {
  /**
   * Stable identifier (`control-plane`): what tests and machines match, while titles are for
   * people. Default: the title in kebab case.
   */
  id?: string;
  title: string;
  /** Return a reason to skip the step (shown to the user), or false to run it. */
  skip?: () => string | false;
  run: (step: StepContext) => Promise<void> | void;
}

export interface StepContext {
  /** Replace the step's one-line status (e.g. "3/7 images"). */
  status(text: string): void;
  /** Run child steps, concurrently or in order; their failures fail this step. */
  children(steps: Step[], options?: { concurrent?: boolean }): Promise<void>;
  readonly signal: AbortSignal;
}

/** `path` holds the titles from the top step down, `ids` the same steps' ids. */
export type ProgressEvent =
  | { type: 'start'; path: string[]; ids: string[] }
  | { type: 'status'; path: string[]; ids: string[]; text: string }
  | { type: 'done'; path: string[]; ids: string[]; durationMs: number }
  | { type: 'skip'; path: string[]; ids: string[]; reason: string }
  | { type: 'fail'; path: string[]; ids: string[]; durationMs: number; error: unknown };

export type ProgressListener = (event: ProgressEvent) => void;

export type RendererKind = 'interactive' | 'plain' | 'silent';

export interface StepTiming {
  path: string[];
  ids: string[];
  durationMs: number;
}

export interface RunOptions {
  renderer: RendererKind;
  onEvent?: ProgressListener;
  signal?: AbortSignal;
}

/** Runs steps in order; returns every finished step's timing (children included). */
export async function runSteps(steps: Step[], options: RunOptions): Promise<StepTiming[]> {
  const timings: StepTiming[] = [];
  const signal = options.signal ?? new AbortController().signal;
  const emit = (event: ProgressEvent): void => {
    if (event.type === 'done')
      timings.push({ path: event.path, ids: event.ids, durationMs: event.durationMs });
    options.onEvent?.(event);
  };
  const list = new Listr(toListrTasks(steps, { path: [], ids: [] }, emit, signal), {
    concurrent: false,
    exitOnError: true,
    // kur handles SIGINT itself so it can roll back; listr2 must not exit the process.
    registerSignalListeners: false,
    renderer: rendererClass(options.renderer),
    rendererOptions: {
      timer: PRESET_TIMER,
      collapseSubtasks: false,
      logger: progressLogger(options.renderer !== 'interactive'),
    },
    fallbackRenderer: SimpleRenderer,
    fallbackRendererOptions: { timer: PRESET_TIMER, logger: progressLogger(true) },
  });
  await list.run();
  return timings;
}

/**
 * listr2 writes progress to stdout by default; kur's stdout carries only results (`-o json` must
 * parse), so every renderer writes to stderr. Icons as listr2 uses them: the plain renderer prints
 * them itself, the interactive one draws its own.
 */
function progressLogger(useIcons: boolean): ListrLogger {
  return new ListrLogger({ useIcons, processOutput: new ProcessOutput(process.stderr, process.stderr) });
}

type Renderer = typeof DefaultRenderer | typeof SimpleRenderer | typeof SilentRenderer;
type Wrapper = ListrTaskWrapper<unknown, Renderer, typeof SimpleRenderer>;

function rendererClass(kind: RendererKind): Renderer {
  if (kind === 'interactive') return DefaultRenderer;
  return kind === 'plain' ? SimpleRenderer : SilentRenderer;
}

function toListrTasks(
  steps: Step[],
  parent: { path: string[]; ids: string[] },
  emit: ProgressListener,
  signal: AbortSignal,
): ListrTask<unknown, Renderer, typeof SimpleRenderer>[] {
  return steps.map((step) => {
    const path = [...parent.path, step.title];
    const ids = [...parent.ids, step.id ?? kebab(step.title)];
    return {
      title: step.title,
      skip: () => {
        const reason = step.skip?.() ?? false;
        if (reason !== false) emit({ type: 'skip', path, ids, reason });
        return reason;
      },
      task: async (_ctx: unknown, task: Wrapper) => {
        signal.throwIfAborted();
        const started = performance.now();
        emit({ type: 'start', path, ids });
        let lastStatus = '';
        const context: StepContext = {
          status: (text) => {
            // Plain renderers print every update as a line: repeat only what changed.
            if (text === lastStatus) return;
            lastStatus = text;
            task.output = text;
            emit({ type: 'status', path, ids, text });
          },
          children: async (children, opts = {}) => {
            await task
              .newListr(toListrTasks(children, { path, ids }, emit, signal), {
                concurrent: opts.concurrent ?? false,
                exitOnError: true,
              })
              .run();
          },
          signal,
        };
        try {
          await step.run(context);
        } catch (error) {
          emit({ type: 'fail', path, ids, durationMs: performance.now() - started, error });
          throw error;
        }
        emit({ type: 'done', path, ids, durationMs: performance.now() - started });
      },
    };
  });
}

function kebab(title: string): string {
  return title
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');
}

/** Picks the renderer the guide asks for: listr2 on a terminal, plain lines in CI or -v, none with -q. */
export function chooseRenderer(opts: { quiet: boolean; plain: boolean }): RendererKind {
  if (opts.quiet) return 'silent';
  return opts.plain ? 'plain' : 'interactive';
}
