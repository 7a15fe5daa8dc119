import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { cachedEntry, cacheKey } from '../util/cache.js';
import { KurError, messageOf } from '../util/errors.js';
import type { Logger } from '../util/logger.js';
import { imagesDir, type Component, type ComponentsManifest, type GoBuild } from './components.js';
import { countListed, goBuildErrors, GoBuildProgress, throttled } from './go-progress.js';

/**
 * The offline build path: every binary compiled from the Go module proxy at the versions pinned
 * in images/components.json, each component in its own module under images/go so dependency
 * versions never fight. Outputs are cached per component, keyed by everything that decides the
 * bytes (module files, our own sources, flags, Go version), so a warm rebuild runs no compiler.
 */
export interface GoToolchain {
  /** `go1.26.8` */
  version: string;
  path: string;
}

export async function findGo(env: NodeJS.ProcessEnv): Promise<GoToolchain> {
  try {
    const result = await execa('go', ['env', 'GOVERSION'], { env, extendEnv: false });
    return { version: result.stdout.trim(), path: 'go' };
  } catch (error) {
    throw new KurError(
      'build',
      'the Go toolchain is needed to build the node image from source, and `go` was not found',
      {
        detail: messageOf(error),
        hint: 'Install Go 1.26 or newer (https://go.dev/dl) and put it on PATH, or use --source release (downloads) or --source local (binaries you have).',
      },
    );
  }
}

export interface BuiltComponent {
  component: Component;
  /** Binary name -> file (links of a multi-call binary point at its file). */
  binaries: Map<string, string>;
  cached: boolean;
}

/** Files of a component's module that decide its build: go.mod, go.sum and our own sources. */
async function moduleFingerprint(dir: string): Promise<string[]> {
  const parts: string[] = [];
  const walk = async (current: string): Promise<void> => {
    for (const entry of (await fs.readdir(current, { withFileTypes: true })).sort((a, b) =>
      a.name.localeCompare(b.name),
    )) {
      const path = join(current, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (/\.(go|mod|sum|s|c|h)$/.test(entry.name) && !entry.name.endsWith('_test.go')) {
        parts.push(path.slice(dir.length), await fs.readFile(path, 'utf8'));
      }
    }
  };
  await walk(dir);
  return parts;
}

export interface GoBuildOptions {
  manifest: ComponentsManifest;
  toolchain: GoToolchain;
  cacheDir: string;
  env: NodeJS.ProcessEnv;
  logger: Logger;
  onStatus?: (text: string) => void;
  /** Package counts go to `onStatus` at most this often (default 10 s; plain renderers print each). */
  progressIntervalMs?: number;
  signal?: AbortSignal;
}

function buildEnv(options: GoBuildOptions, build: GoBuild): NodeJS.ProcessEnv {
  return {
    ...options.env,
    ...options.manifest.goBuild.env,
    CGO_ENABLED: build.cgo ? '1' : '0',
    // Reproducible cgo links: no build paths in the binary.
    ...(build.cgo ? { CGO_CFLAGS: '-O2 -g0', CGO_LDFLAGS: '-s' } : {}),
  };
}

/** Builds (or takes from the cache) every binary of one component. */
export async function buildComponent(component: Component, options: GoBuildOptions): Promise<BuiltComponent> {
  const dir = join(imagesDir, '..', component.go.dir);
  const key = cacheKey(
    JSON.stringify(component.go),
    JSON.stringify(options.manifest.goBuild),
    options.toolchain.version,
    ...(await moduleFingerprint(dir)),
  );
  const target = join(options.cacheDir, 'bin', `${component.name}-${component.version}-${key}`);
  const { hit } = await cachedEntry(target, async (temp) => {
    await fs.mkdir(temp, { recursive: true });
    for (const build of component.go.builds) {
      options.signal?.throwIfAborted();
      await goBuild(component, build, dir, temp, options);
      for (const link of build.links ?? []) await fs.symlink(build.output, join(temp, link));
    }
  });
  return { component, binaries: await binariesIn(target, component), cached: hit };
}

/**
 * One `go build -v`, its progress reported through `onStatus` (packages compiled of those
 * `go list` says are stale, at most once per `progressIntervalMs`).
 */
async function goBuild(
  component: Component,
  build: GoBuild,
  dir: string,
  outDir: string,
  options: GoBuildOptions,
): Promise<void> {
  const label = `go build ${build.output} (${component.name} ${component.version})`;
  const flags = [
    ...options.manifest.goBuild.flags,
    ...(build.tags.length > 0 ? [`-tags=${build.tags.join(',')}`] : []),
    `-ldflags=${build.ldflags}`,
  ];
  const args = ['build', '-v', ...flags, '-o', join(outDir, build.output), build.package];
  const progress = new GoBuildProgress(label);
  const status = throttled((text) => options.onStatus?.(text), options.progressIntervalMs ?? 10_000);
  status.update(progress.text());
  const done = new AbortController();
  const signal = options.signal !== undefined ? AbortSignal.any([options.signal, done.signal]) : done.signal;
  const execOptions = { cwd: dir, env: buildEnv(options, build), extendEnv: false, cancelSignal: signal };
  const staleTemplate = '{{if .Stale}}{{.ImportPath}}{{end}}';
  const listing = execa(
    options.toolchain.path,
    ['list', '-deps', ...flags, '-f', staleTemplate, build.package],
    execOptions,
  ).then(
    (listed) => {
      progress.setTotal(countListed(listed.stdout));
      status.update(progress.text());
    },
    (error: unknown) => {
      if (!done.signal.aborted)
        options.logger.debug(`go list for ${build.output} failed: ${messageOf(error)}`);
    },
  );
  const started = Date.now();
  try {
    // Each stderr line passes through here (and is kept whole for the error report).
    const watch = function* (line: unknown): Generator<unknown> {
      if (typeof line === 'string' && progress.feed(line)) status.update(progress.text());
      yield line;
    };
    await execa(options.toolchain.path, args, { ...execOptions, stderr: watch });
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr;
    const output = stderr !== undefined ? goBuildErrors(stderr) : messageOf(error);
    throw new KurError(
      'build',
      `go build of ${build.output} (${component.name} ${component.version}) failed`,
      {
        detail: `cd ${dir} && go ${args.join(' ')}\n${output}`,
        hint: cgoHint(build, output),
      },
    );
  } finally {
    done.abort();
    await listing;
    status.flush();
  }
  options.logger.debug(`built ${build.output} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

function cgoHint(build: GoBuild, stderr: string): string | undefined {
  if (!build.cgo) return undefined;
  if (/seccomp\.h|lseccomp/.test(stderr))
    return 'runc links libseccomp statically: install libseccomp-dev (apt-get install libseccomp-dev).';
  if (/gcc|cc1|C compiler/.test(stderr))
    return 'This binary needs cgo: install a C compiler (apt-get install gcc libc6-dev).';
  return undefined;
}

async function binariesIn(dir: string, component: Component): Promise<Map<string, string>> {
  const binaries = new Map<string, string>();
  for (const build of component.go.builds) {
    const file = join(dir, build.output);
    await fs.access(file);
    binaries.set(build.output, file);
    for (const link of build.links ?? []) binaries.set(link, file);
  }
  return binaries;
}

/** One of kur's own Go programs under images/go/<dir>, built like a component. */
function ownTool(name: string, dir: string): Component {
  return {
    name,
    version: 'dev',
    source: `kur (images/go/${dir})`,
    go: {
      dir: `images/go/${dir}`,
      builds: [{ package: '.', output: name, cgo: false, tags: [], ldflags: '-s -w' }],
    },
    release: null,
  };
}

/** kur's own helper programs, built like components but not listed as node components. */
export const toolComponents: Component[] = [
  ownTool('kur-preload', 'preload'),
  ownTool('kur-runc', 'kur-runc'),
  ownTool('kur-lb', 'lb'),
];
