// Shared by the GitHub Action's entry points (action-main.js, action-post.js): finds the kur whose
// dist/action code runs. dist/ is not committed, so a checkout of the action is built on first use;
// a `kur-version` input installs that kur from npm (or a tarball) instead.
import { execFileSync } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const actionRoot = fileURLToPath(new URL('..', import.meta.url));
const entry = (root, step = 'main') => join(root, 'dist', 'action', `${step}.js`);

function run(command, args, cwd) {
  // stdout is the job log; the child's output goes there too, stdin is closed.
  execFileSync(command, args, { cwd, stdio: ['ignore', 'inherit', 'inherit'] });
}

function npm(args, cwd) {
  // The runner's node ships npm next to it; otherwise use npm from PATH.
  const cli = join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'bin', 'npm-cli.js');
  if (existsSync(cli)) run(process.execPath, [cli, ...args], cwd);
  else run('npm', args, cwd);
}

/** Compiles the checkout once: npm ci (dev dependencies included, for tsc), then tsc. */
function ensureBuilt(root) {
  if (existsSync(entry(root))) return;
  process.stdout.write(`kur: building the action from ${root} (first use of this checkout)\n`);
  if (!existsSync(join(root, 'node_modules', 'typescript'))) {
    npm(['ci', '--include=dev', '--no-audit', '--no-fund'], root);
  }
  run(
    process.execPath,
    [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'],
    root,
  );
}

/** `kur-version`: a version of the kur package, or any npm spec (tarball path or URL, tag). */
function installKur(spec, env) {
  const workspace = env.GITHUB_WORKSPACE ?? process.cwd();
  const target = /^v?\d+\.\d+\.\d+(-[\w.]+)?$/.test(spec)
    ? `kur@${spec.replace(/^v/, '')}`
    : /^(\.|\/)/.test(spec) && !isAbsolute(spec)
      ? resolve(workspace, spec)
      : spec;
  const prefix = join(
    env.RUNNER_TEMP ?? tmpdir(),
    'kur-action',
    createHash('sha256').update(target).digest('hex').slice(0, 16),
  );
  const root = join(prefix, 'node_modules', 'kur');
  if (!existsSync(entry(root))) {
    mkdirSync(prefix, { recursive: true });
    // A package.json of its own keeps npm from walking up into the workspace's project.
    if (!existsSync(join(prefix, 'package.json')))
      writeFileSync(join(prefix, 'package.json'), '{"private":true}\n');
    process.stdout.write(`kur: installing ${target}\n`);
    npm(['install', '--no-audit', '--no-fund', '--omit=dev', target], prefix);
  }
  if (!existsSync(entry(root))) {
    throw new Error(`kur-version ${spec}: ${target} installed no kur with dist/action/main.js`);
  }
  return root;
}

function saveState(env, name, value) {
  if (env.GITHUB_STATE === undefined || env.GITHUB_STATE === '') return;
  const delimiter = `ghadelimiter_${randomUUID()}`;
  appendFileSync(env.GITHUB_STATE, `${name}<<${delimiter}\n${value}\n${delimiter}\n`);
}

/** The main step picks the kur (and tells the post step which); the post step reuses it. */
function kurRoot(step, env) {
  if (step === 'post') {
    const saved = env.STATE_kurRoot ?? '';
    const root = saved !== '' ? saved : actionRoot;
    ensureBuilt(root);
    return root;
  }
  const spec = (env['INPUT_KUR-VERSION'] ?? '').trim();
  const own = JSON.parse(readFileSync(join(actionRoot, 'package.json'), 'utf8')).version;
  let root;
  if (spec === '' || spec.replace(/^v/, '') === own) {
    ensureBuilt(actionRoot);
    root = actionRoot;
  } else {
    root = installKur(spec, env);
  }
  saveState(env, 'kurRoot', root);
  return root;
}

/** Loads the action module of the chosen kur; a setup failure is reported like any action error. */
export async function loadAction(step, env = process.env) {
  try {
    return await import(pathToFileURL(entry(kurRoot(step, env), step)).href);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    process.stdout.write(`::error title=kur action setup failed::${message.replace(/\n/g, '%0A')}\n`);
    process.exit(1);
  }
}
