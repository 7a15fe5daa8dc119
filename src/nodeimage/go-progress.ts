/**
 * Progress of one `go build -v`: Go prints each package's import path on stderr as it compiles
 * it (packages taken from the build cache are not printed), and `go list -deps` with `.Stale`
 * names beforehand the packages that will be compiled. Compiling Kubernetes from a cold cache is
 * ~2,900 packages over ten minutes; "812/2854 packages compiled" is something a person can follow.
 */

export type GoOutputLine =
  { kind: 'package'; path: string } | { kind: 'download'; module: string } | { kind: 'other'; text: string };

// An import path alone on a line: no spaces, no colon (errors are `file:line:col: message`),
// no `#` (the `# package` header above a compile error).
const importPath = /^[A-Za-z0-9._~+-]+(\/[A-Za-z0-9._~+-]+)*$/;
const downloading = /^go: downloading (\S+ \S+)$/;

export function classifyGoLine(line: string): GoOutputLine {
  const text = line.trim();
  const download = downloading.exec(text);
  if (download?.[1] !== undefined) return { kind: 'download', module: download[1] };
  if (importPath.test(text) && /[a-z]/i.test(text)) return { kind: 'package', path: text };
  return { kind: 'other', text };
}

/** What `go build -v` said besides the package list: the part worth showing after a failure. */
export function goBuildErrors(stderr: string): string {
  return stderr
    .split('\n')
    .filter((line) => classifyGoLine(line).kind !== 'package')
    .join('\n')
    .trim();
}

/** The number of packages `go list -deps -f '{{if .Stale}}{{.ImportPath}}{{end}}'` printed. */
export function countListed(listOutput: string): number {
  return listOutput.split('\n').filter((line) => line.trim() !== '').length;
}

export class GoBuildProgress {
  private compiled = 0;
  private total: number | undefined;
  private download: string | undefined;

  /** `label`: what is being built, e.g. `go build kube (kubernetes v1.37.2)`. */
  constructor(private readonly label: string) {}

  /** Takes one line of stderr; true when the progress text changed. */
  feed(line: string): boolean {
    const parsed = classifyGoLine(line);
    if (parsed.kind === 'package') this.compiled += 1;
    else if (parsed.kind === 'download') this.download = parsed.module;
    return parsed.kind !== 'other';
  }

  /** The number of packages to compile, once `go list` has answered. */
  setTotal(total: number): void {
    this.total = total;
  }

  text(): string {
    if (this.compiled === 0) {
      return this.download === undefined ? this.label : `${this.label}: downloading ${this.download}`;
    }
    if (this.total === undefined) return `${this.label}: ${this.compiled} packages compiled`;
    // go list ran alongside the build and may have missed packages compiled before it looked.
    const total = Math.max(this.total, this.compiled);
    const linking = this.compiled === total ? ', linking' : '';
    return `${this.label}: ${this.compiled}/${total} packages compiled${linking}`;
  }
}

/**
 * Passes texts on at most once per `intervalMs`: the first at once, later ones when the interval
 * is over (a trailing timer sends the latest, so the last state is never lost). `flush` sends
 * what is pending and stops the timer.
 */
export function throttled(
  emit: (text: string) => void,
  intervalMs: number,
): { update(text: string): void; flush(): void } {
  let sentAt = -Infinity;
  let pending: string | undefined;
  let timer: NodeJS.Timeout | undefined;
  const send = (): void => {
    clearTimeout(timer);
    timer = undefined;
    if (pending === undefined) return;
    sentAt = Date.now();
    const text = pending;
    pending = undefined;
    emit(text);
  };
  return {
    update(text) {
      pending = text;
      const wait = sentAt + intervalMs - Date.now();
      if (wait <= 0) send();
      else if (timer === undefined) {
        timer = setTimeout(send, wait);
        timer.unref();
      }
    },
    flush: send,
  };
}
