import type { StepContext } from '../../ui/progress.js';
import type { Component } from '../components.js';
import { buildComponent, toolComponents, type BuiltComponent, type GoBuildOptions } from '../go-build.js';
import { localComponents, type LocalSource } from '../local-source.js';
import { fetchReleaseComponent, type FetchedComponent } from '../release-source.js';
import type { BinarySource, ComponentRecord } from '../types.js';
import type { WithBase } from './base-rootfs.js';
import { componentRecord, verifyVersion } from './component-checks.js';
import type { BuildInputs } from './inputs.js';
import type { Phase } from '../../ui/phases.js';

export const componentsStepId = 'node-image.components';

export interface WithBinaries extends WithBase {
  /** Binary name -> file, for every node component. */
  binaries: Map<string, string>;
  /** Binary name -> file, for kur's own helper programs (kur-preload, kur-lb, kur-runc). */
  tools: Map<string, string>;
  components: ComponentRecord[];
}

const sourceTitle: Record<BinarySource, string> = {
  go: 'go build',
  release: 'release downloads',
  local: 'local binaries',
};

/**
 * Components always built with Go whatever the source: those with no upstream release (kur's
 * own, and add-ons published only as images) and Flannel, whose release publishes no checksum
 * and lacks the install-conf its image needs.
 */
export function goOnly(component: Component): boolean {
  return component.release === null || component.name === 'flannel';
}

/** Kubernetes and its companions from the chosen source, each checked to run and report its pin. */
export const componentsPhase: Phase<BuildInputs, WithBase, WithBinaries> = {
  id: componentsStepId,
  title: ({ version, source }) => `Kubernetes ${version} and companions (${sourceTitle[source.kind]})`,
  run: async (base, inputs, step) => {
    const { manifest, source, cacheDir, env } = inputs;
    const local =
      source.kind === 'local'
        ? await localComponents(manifest, source.path, {
            cacheDir,
            exclude: manifest.components.filter(goOnly).map((c) => c.name),
          })
        : undefined;
    const binaries = new Map<string, string>();
    const components: ComponentRecord[] = [];
    for (const component of manifest.components) {
      const built = await componentBinaries(component, local, goOptions(base, inputs, step), inputs);
      for (const [name, file] of built.binaries) binaries.set(name, file);
      const origin =
        'source' in built
          ? built.source
          : local !== undefined && !goOnly(component)
            ? local.source
            : component.source;
      const { name, version, license, versionCommand, versionEnv } = component;
      components.push(await componentRecord(name, version, origin, license, built.binaries));
      await verifyVersion(manifest, versionCommand, versionEnv, built.binaries, version, env);
    }
    const tools = new Map<string, string>();
    for (const tool of toolComponents) {
      const built = await buildComponent(tool, goOptions(base, inputs, step));
      for (const [name, file] of built.binaries) tools.set(name, file);
    }
    return { ...base, binaries, tools, components };
  },
};

/** One component's binaries: a verified release, the user's own, or a Go build. */
async function componentBinaries(
  component: Component,
  local: LocalSource | undefined,
  go: GoBuildOptions,
  { source, cacheDir, logger, signal }: BuildInputs,
): Promise<BuiltComponent | FetchedComponent> {
  const release = component.release;
  const verifiable = release !== null && (Boolean(release.sha256) || Boolean(release.sha256Url));
  if (source.kind === 'release' && verifiable && !goOnly(component)) {
    return fetchReleaseComponent(component, {
      cacheDir,
      logger,
      ...(source.mirror !== undefined ? { mirror: source.mirror } : {}),
      ...(go.onStatus !== undefined ? { onStatus: go.onStatus } : {}),
      ...(signal !== undefined ? { signal } : {}),
    });
  }
  const found = local?.components.get(component.name);
  if (found !== undefined) return found;
  return buildComponent(component, go);
}

function goOptions({ toolchain }: WithBase, inputs: BuildInputs, step: StepContext): GoBuildOptions {
  const { manifest, cacheDir, env, logger, signal, renderer } = inputs;
  return {
    manifest,
    toolchain,
    cacheDir,
    env,
    logger,
    onStatus: (text: string) => step.status(text),
    // A plain renderer prints every status as a line: package counts every 10 s, not per package.
    progressIntervalMs: renderer === 'interactive' ? 1000 : 10_000,
    ...(signal !== undefined ? { signal } : {}),
  };
}
