import { readFileSync } from 'node:fs';

/**
 * The engines the host harness (e2e/host/setup-engines.sh) started, read from its env file:
 * KUR_TEST_ENGINES="rootful-docker rootless-docker rootless-podman" and one
 * KUR_TEST_HOST_<ID> per engine. Suites run once per engine and name it in their titles.
 */
export const enginesEnvFile = '/var/lib/kur-test/engines.env';

export interface TestEngine {
  /** rootful-docker, rootless-docker, rootless-podman. */
  id: string;
  /** unix:///path of its API socket. */
  host: string;
  /** What the id promises, checked against what kur detects. */
  expected: { provider: 'docker' | 'podman'; rootless: boolean };
}

export type TestEngines = { engines: TestEngine[] } | { missing: string };

export function parseEnvFile(text: string): Record<string, string> {
  const values: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const match = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (match === null) continue;
    values[match[1]!] = match[2]!.replace(/^"(.*)"$/, '$1').replace(/^'(.*)'$/, '$1');
  }
  return values;
}

export function readTestEngines(path = process.env.KUR_TEST_ENGINES_FILE ?? enginesEnvFile): TestEngines {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return { missing: `engines not set up (no ${path}): run \`sudo bash e2e/host/setup-engines.sh\`` };
  }
  const values = parseEnvFile(text);
  const ids = (values.KUR_TEST_ENGINES ?? '').split(/\s+/).filter((id) => id !== '');
  if (ids.length === 0) return { missing: `${path} lists no engines in KUR_TEST_ENGINES` };
  const engines: TestEngine[] = [];
  for (const id of ids) {
    const key = `KUR_TEST_HOST_${id.toUpperCase().replace(/-/g, '_')}`;
    const host = values[key];
    if (host === undefined || host === '') return { missing: `${path} lists ${id} but sets no ${key}` };
    engines.push({
      id,
      host,
      expected: {
        provider: id.includes('podman') ? 'podman' : 'docker',
        rootless: id.startsWith('rootless'),
      },
    });
  }
  return { engines };
}

/**
 * Declares `body` once per test engine, in a describe block named after it. Without engines the
 * suite shows one skipped test saying why, or fails when KUR_TEST_REQUIRE_ENGINES=1 (CI).
 */
export function describeEachEngine(title: string, body: (engine: TestEngine) => void): void {
  const found = readTestEngines();
  if ('missing' in found) {
    describe(title, () => {
      if (process.env.KUR_TEST_REQUIRE_ENGINES === '1') {
        it('has engines to run on (KUR_TEST_REQUIRE_ENGINES=1)', () => {
          throw new Error(found.missing);
        });
      } else {
        it.skip(`skipped: ${found.missing}`);
      }
    });
    return;
  }
  for (const engine of found.engines) {
    describe(`${title} on ${engine.id} (${engine.host})`, () => body(engine));
  }
}
