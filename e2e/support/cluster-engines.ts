import { readTestEngines, type TestEngine } from './engines.js';

/**
 * Which harness engines the cluster suite and the benchmark run on: KUR_E2E_ENGINES (ids, commas
 * or spaces), else the caller's default. The suite defaults to all three engines, since kur is
 * rootless first (about ten minutes for all three here); the benchmark to rootful Docker, whose
 * numbers the cluster lifecycle issue's targets are about.
 */
export const allClusterEngineIds = ['rootful-docker', 'rootless-docker', 'rootless-podman'];

export function selectedEngineIds(
  env: NodeJS.ProcessEnv = process.env,
  defaults: string[] = allClusterEngineIds,
): string[] {
  const ids = (env.KUR_E2E_ENGINES ?? '').split(/[\s,]+/).filter((id) => id !== '');
  return ids.length > 0 ? [...new Set(ids)] : defaults;
}

export type SelectedEngines = { engines: TestEngine[] } | { missing: string };

/** The selected engines as the harness's env file describes them, or why they cannot be used. */
export function selectedEngines(
  env: NodeJS.ProcessEnv = process.env,
  defaults: string[] = allClusterEngineIds,
): SelectedEngines {
  const found = readTestEngines();
  if ('missing' in found) return found;
  const engines: TestEngine[] = [];
  for (const id of selectedEngineIds(env, defaults)) {
    const engine = found.engines.find((e) => e.id === id);
    if (engine === undefined) {
      return {
        missing: `KUR_E2E_ENGINES names "${id}", which the harness did not start (it started: ${found.engines
          .map((e) => e.id)
          .join(', ')})`,
      };
    }
    engines.push(engine);
  }
  return { engines };
}

/**
 * Declares `body` once per selected engine, in a describe block naming it. A selected engine that
 * is missing is a failing test, never a silent skip: the run asked for it. Without the harness at
 * all the suite shows one skipped test saying why, unless KUR_TEST_REQUIRE_ENGINES=1 (CI).
 */
export function describeClusterEngines(title: string, body: (engine: TestEngine) => void): void {
  const found = selectedEngines();
  if ('missing' in found) {
    describe(title, () => {
      const harnessAbsent = 'missing' in readTestEngines();
      if (harnessAbsent && process.env.KUR_TEST_REQUIRE_ENGINES !== '1') {
        it.skip(`skipped: ${found.missing}`);
      } else {
        it('has the engines KUR_E2E_ENGINES selects', () => {
          throw new Error(found.missing);
        });
      }
    });
    return;
  }
  for (const engine of found.engines) {
    describe(`${title} on ${engine.id} (${engine.host})`, () => body(engine));
  }
}
