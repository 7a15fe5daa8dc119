import { createWriteStream, promises as fs } from 'node:fs';
import { isAbsolute, join, posix, relative, resolve, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { cachedEntry, cacheKey, sha256File } from '../util/cache.js';
import { KurError, isKurError, messageOf } from '../util/errors.js';
import type { ComponentsManifest } from './components.js';
import type { BuiltComponent } from './go-build.js';
import { forEachTarEntry } from './tar-read.js';

/**
 * The local path: binaries the user already has, in a directory or a tarball (.tar, .tar.gz,
 * .tgz), named like the manifest's binary names (kubelet, containerd, bridge, ... or a
 * multi-call `kube` with or without its links). A tarball is unpacked once into the cache, keyed
 * by its content. Nothing is downloaded or built, so every required binary must be there.
 */
export interface LocalOptions {
  cacheDir: string;
  /** Components that come from elsewhere (e.g. kur's own pause and flannel CNI from the Go path). */
  exclude?: string[];
}

export interface LocalSource {
  /** `local:<absolute path>`, for the image manifest. */
  source: string;
  /** Binary name -> file (links of a multi-call binary resolve to its file). */
  binaries: Map<string, string>;
  /** File -> sha256. */
  sha256: Map<string, string>;
  /** The binaries found, per component name, in the Go path's shape. */
  components: Map<string, BuiltComponent>;
}

const tarball = /\.(tar|tar\.gz|tgz)$/;

export async function localComponents(
  manifest: ComponentsManifest,
  path: string,
  options: LocalOptions,
): Promise<LocalSource> {
  const absolute = resolve(path);
  let stat;
  try {
    stat = await fs.stat(absolute);
  } catch (error) {
    throw new KurError('usage', `local binaries: ${absolute} does not exist`, {
      detail: messageOf(error),
      hint: 'Pass a directory or a .tar/.tar.gz/.tgz of binaries named like images/components.json names them.',
    });
  }
  let root: string;
  let cached = false;
  if (stat.isDirectory()) root = absolute;
  else if (stat.isFile() && tarball.test(absolute))
    ({ root, cached } = await unpack(absolute, options.cacheDir));
  else {
    throw new KurError(
      'usage',
      `local binaries: ${absolute} is neither a directory nor a .tar/.tar.gz/.tgz file`,
    );
  }
  root = await unwrap(root);

  const exclude = new Set(options.exclude ?? []);
  // Every name a component may provide: Go outputs, their links, release file names.
  const owner = new Map<string, string>();
  const multiCall = new Map<string, string>();
  for (const component of manifest.components) {
    if (exclude.has(component.name)) continue;
    for (const build of component.go.builds) {
      owner.set(build.output, component.name);
      for (const link of build.links ?? []) {
        owner.set(link, component.name);
        multiCall.set(link, build.output);
      }
    }
    for (const binary of Object.values(component.release?.files ?? {})) owner.set(binary, component.name);
  }

  const binaries = new Map<string, string>();
  for (const name of owner.keys()) {
    const file = await regularFile(join(root, name));
    if (file !== undefined) binaries.set(name, file);
  }
  // A multi-call binary stands in for links that are not there.
  for (const [link, output] of multiCall) {
    const file = binaries.get(output);
    if (!binaries.has(link) && file !== undefined) binaries.set(link, file);
  }

  const needs = new Map<string, string>();
  for (const [at, binary] of Object.entries(manifest.nodeBinaries)) needs.set(binary, `node ${at}`);
  for (const image of manifest.images) {
    for (const binary of Object.values(image.binaries)) {
      if (!needs.has(binary)) needs.set(binary, `image ${image.name}`);
    }
  }
  const missing = [...needs].filter(([binary]) => owner.has(binary) && !binaries.has(binary));
  if (missing.length > 0) {
    throw new KurError(
      'build',
      `local binaries in ${absolute}: missing ${missing.map(([binary]) => binary).join(', ')}`,
      {
        detail: missing.map(([binary, why]) => `${binary}: needed by the ${why}`).join('\n'),
        hint: 'Add them (named exactly so, at the top level), or take the build from --source go or --source release.',
      },
    );
  }

  const sha256 = new Map<string, string>();
  for (const file of new Set(binaries.values())) sha256.set(file, await sha256File(file));
  const components = new Map<string, BuiltComponent>();
  for (const component of manifest.components) {
    const found = [...binaries].filter(([binary]) => owner.get(binary) === component.name);
    if (found.length > 0) components.set(component.name, { component, binaries: new Map(found), cached });
  }
  return { source: `local:${absolute}`, binaries, sha256, components };
}

/** The file behind `path` (symlinks followed), when it is a regular file. */
async function regularFile(path: string): Promise<string | undefined> {
  try {
    const real = await fs.realpath(path);
    return (await fs.stat(real)).isFile() ? real : undefined;
  } catch {
    return undefined;
  }
}

/** A tarball of a folder holds one directory: look inside it. */
async function unwrap(root: string): Promise<string> {
  const entries = await fs.readdir(root, { withFileTypes: true });
  const [only] = entries;
  return entries.length === 1 && only!.isDirectory() ? join(root, only!.name) : root;
}

/** Unpacks a tarball into the cache, keyed by its content; entries may not leave their root. */
async function unpack(file: string, cacheDir: string): Promise<{ root: string; cached: boolean }> {
  const target = join(cacheDir, 'local', cacheKey(await sha256File(file)));
  try {
    const { hit } = await cachedEntry(target, async (temp) => {
      await fs.mkdir(temp);
      await forEachTarEntry(file, async (header, body) => {
        const name = posix.normalize(header.name.replace(/^\/+/, ''));
        const out = join(temp, name);
        if (name === '..' || name.startsWith('../') || !inside(temp, out)) {
          throw new KurError('build', `${file}: entry ${header.name} points outside the archive`);
        }
        if (header.type === 'directory') {
          body.resume();
          await fs.mkdir(out, { recursive: true });
        } else if (header.type === 'file' || header.type === 'contiguous-file') {
          await fs.mkdir(posix.dirname(out), { recursive: true });
          await pipeline(body, createWriteStream(out, { mode: 0o755 }));
        } else if (header.type === 'symlink' || header.type === 'link') {
          body.resume();
          const linkname = header.linkname ?? '';
          // Symlinks are relative to their directory, hard links to the archive root.
          const to =
            header.type === 'symlink'
              ? resolve(posix.dirname(out), linkname)
              : join(temp, posix.normalize(linkname));
          if (posix.isAbsolute(linkname) || !inside(temp, to)) {
            throw new KurError(
              'build',
              `${file}: link ${header.name} -> ${linkname} points outside the archive`,
            );
          }
          await fs.mkdir(posix.dirname(out), { recursive: true });
          if (header.type === 'symlink') await fs.symlink(linkname, out);
          else await fs.link(to, out);
        } else {
          body.resume();
        }
      });
    });
    return { root: target, cached: hit };
  } catch (error) {
    if (isKurError(error)) throw error;
    throw new KurError('build', `cannot unpack local binaries from ${file}: ${messageOf(error)}`, {
      cause: error,
    });
  }
}

function inside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel !== '' && rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel);
}
