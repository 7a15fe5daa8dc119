import { promises as fs } from 'node:fs';
import { posix } from 'node:path';
import { execa } from 'execa';
import { sha256File } from '../../util/cache.js';
import { KurError } from '../../util/errors.js';
import { multiCallName, type ComponentsManifest } from '../components.js';
import type { ComponentRecord } from '../types.js';

/** A component's entry in the image manifest: where it came from and each file's digest. */
export async function componentRecord(
  name: string,
  version: string,
  source: string,
  license: string | undefined,
  binaries: Map<string, string>,
): Promise<ComponentRecord> {
  const files = new Map<string, { path: string; sha256: string; size: number }>();
  for (const file of binaries.values()) {
    if (files.has(file)) continue;
    const stat = await fs.stat(file);
    files.set(file, { path: posix.basename(file), sha256: await sha256File(file), size: stat.size });
  }
  return { name, version, source, license, files: [...files.values()] };
}

/** Runs a component's version command and checks it names the pinned version. */
export async function verifyVersion(
  manifest: ComponentsManifest,
  command: string[] | undefined,
  versionEnv: Record<string, string> | undefined,
  binaries: Map<string, string>,
  version: string,
  env: NodeJS.ProcessEnv,
): Promise<void> {
  const [binary, ...rest] = command ?? [];
  if (binary === undefined) return;
  const file = binaries.get(binary);
  if (file === undefined) return;
  // A multi-call binary takes the command name as its first argument.
  const args = multiCallName(manifest, binary, file) === undefined ? rest : [binary, ...rest];
  const result = await execa(file, args, { env: { ...env, ...versionEnv }, reject: false });
  const output = `${result.stdout}\n${result.stderr}`;
  if (result.failed && result.exitCode === undefined) {
    throw new KurError('build', `${binary} does not run on this host`, { detail: output });
  }
  if (!output.includes(version.replace(/^v/, ''))) {
    throw new KurError('build', `${binary} reports a version other than the pinned ${version}`, {
      detail: output,
    });
  }
}
