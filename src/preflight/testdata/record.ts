/**
 * Records this host's preflight state as a fixture:
 *   npx tsx src/preflight/testdata/record.ts <out.json> "<description>" [engine-id=unix-socket ...]
 * Without engine arguments it records the engines in /var/lib/kur-test/engines.env.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import { readHostState } from '../host-state.js';
import type { EngineKind, HostFixture } from './fixture.js';

function harnessEngines(): [string, string][] {
  const env = readFileSync('/var/lib/kur-test/engines.env', 'utf8');
  const ids = /KUR_TEST_ENGINES="([^"]*)"/.exec(env)?.[1]?.split(' ') ?? [];
  return ids.map((id) => {
    const key = `KUR_TEST_HOST_${id.toUpperCase().replace(/-/g, '_')}`;
    const address = new RegExp(`^${key}=(.*)$`, 'm').exec(env)?.[1] ?? '';
    return [id, address];
  });
}

const [out, description, ...args] = process.argv.slice(2);
if (out === undefined || description === undefined) throw new Error('usage: record.ts <out.json> <description> [id=unix://...]');
const engines = args.length > 0 ? args.map((a) => a.split('=', 2) as [string, string]) : harnessEngines();

const fixture: HostFixture = {
  description,
  origin: `recorded by src/preflight/testdata/record.ts as uid ${process.getuid?.()} on ${new Date().toISOString().slice(0, 10)}`,
  host: undefined as unknown as HostFixture['host'],
  engines: {},
};
for (const [id, address] of engines) {
  const socketPath = address.replace(/^unix:\/\//, '');
  const { engine, ...host } = await readHostState({ connection: { kind: 'unix', socketPath } });
  // Host facts must not depend on the engine asked about; the fixture stores them once.
  if (fixture.host !== undefined && !isDeepStrictEqual(fixture.host, host)) throw new Error(`host facts changed while reading ${id}`);
  fixture.host = host;
  fixture.engines[id as EngineKind] = engine;
}
writeFileSync(out, `${JSON.stringify(fixture, null, 2)}\n`);
console.log(`wrote ${out}: ${Object.keys(fixture.engines).join(', ')}`);
