import { messageOf } from '../util/errors.js';
import type { Logger } from '../util/logger.js';

/**
 * What a create run has made so far, undone in reverse order on failure or interrupt. Undo
 * actions are best-effort and independent: one failing does not stop the others, and each
 * failure is reported so nothing is left behind silently.
 */
export class Rollback {
  private readonly undo: { what: string; action: () => Promise<unknown> }[] = [];
  private done: { what: string; action: () => Promise<unknown> }[] = [];

  add(what: string, action: () => Promise<unknown>): void {
    this.undo.push({ what, action });
  }

  get size(): number {
    return this.undo.length;
  }

  /** Runs every undo action, newest first; returns what could not be undone. */
  async run(logger: Logger): Promise<string[]> {
    this.done = [...this.undo];
    const failures: string[] = [];
    while (this.undo.length > 0) {
      const step = this.undo.pop()!;
      try {
        await step.action();
        logger.debug(`rolled back: ${step.what}`);
      } catch (error) {
        failures.push(`${step.what}: ${messageOf(error)}`);
      }
    }
    return failures;
  }

  /** Runs the same undo actions once more (they are idempotent), for work that landed late. */
  async runAgain(logger: Logger): Promise<string[]> {
    this.undo.push(...this.done);
    return this.run(logger);
  }
}
