import { readFileSync } from 'node:fs';
import type { EngineHost, HostState } from '../host-state.js';

/** The engines a fixture describes, named as in e2e/host/setup-engines.sh. */
export type EngineKind = 'rootful-docker' | 'rootless-docker' | 'rootless-podman';

/**
 * A host as preflight saw it: the host-wide facts once, and the engine-side facts for each engine
 * on it (recorded by record.ts, or written by hand from documented defaults).
 */
export interface HostFixture {
  description: string;
  /** `recorded ...` with the command, or `hand-written from ...` with the sources. */
  origin: string;
  host: Omit<HostState, 'engine'>;
  engines: Partial<Record<EngineKind, EngineHost>>;
}

export function loadFixture(name: string): HostFixture {
  return JSON.parse(readFileSync(new URL(`./${name}`, import.meta.url), 'utf8')) as HostFixture;
}

export function stateOf(fixture: HostFixture, kind: EngineKind): HostState {
  const engine = fixture.engines[kind];
  if (engine === undefined) throw new Error(`fixture has no ${kind} engine`);
  // Deep copies: tests mutate states to derive variants.
  return structuredClone({ ...fixture.host, engine });
}
