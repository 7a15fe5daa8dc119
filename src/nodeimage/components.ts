import { readFileSync } from 'node:fs';
import { posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KurError } from '../util/errors.js';

/**
 * images/components.json: the one manifest of pinned versions every build path reads — what to
 * compile (Go path), what to download and verify (release path), which binaries a node holds and
 * which container images are preloaded, built from those same binaries.
 */
export interface GoBuild {
  /** Import path or `./relative` package inside the component's Go module. */
  package: string;
  output: string;
  cgo: boolean;
  tags: string[];
  ldflags: string;
  /** Other names of a multi-call binary (argv[0] dispatch), installed as symlinks. */
  links?: string[];
}

export interface ReleaseSource {
  url: string;
  sha256Url?: string | null;
  sha256?: string | null;
  /** `hash`: the file holds just the hex digest; `sha256sum`: lines of `<hex>  <name>`. */
  sha256Format?: 'hash' | 'sha256sum';
  /** false: the URL is the binary itself, not an archive. */
  archive?: boolean;
  /** Path inside the archive (with {version}) -> binary name. */
  files: Record<string, string>;
}

export interface Component {
  name: string;
  version: string;
  license?: string;
  /** Where it comes from, for the image manifest (module@version, or "kur (images/go/x)"). */
  source: string;
  go: { dir: string; builds: GoBuild[] };
  release: ReleaseSource | null;
  versionCommand?: string[];
  versionEnv?: Record<string, string>;
}

export interface PreloadedImage {
  name: string;
  /** Path inside the image -> binary name. */
  binaries: Record<string, string>;
  entrypoint: string[];
  user?: string;
  /** Debian packages (with their dependencies) lifted from the node's base root filesystem. */
  debianPackages?: string[];
}

export interface ComponentsManifest {
  schema: number;
  kubernetes: string;
  goBuild: {
    goVersion: string;
    env: Record<string, string>;
    flags: string[];
    debianBuildDeps: string[];
  };
  components: Component[];
  images: PreloadedImage[];
  /** Path in the node -> binary name. */
  nodeBinaries: Record<string, string>;
}

/** The directory holding images/ (the repository, or the installed package). */
export const imagesDir = fileURLToPath(new URL('../../images/', import.meta.url));

let cached: ComponentsManifest | undefined;

export function loadComponents(path = `${imagesDir}components.json`): ComponentsManifest {
  if (cached !== undefined && path === `${imagesDir}components.json`) return cached;
  let manifest: ComponentsManifest;
  try {
    manifest = JSON.parse(readFileSync(path, 'utf8')) as ComponentsManifest;
  } catch (error) {
    throw new KurError('build', `cannot read the component manifest ${path}`, { cause: error });
  }
  if (manifest.schema !== 1) {
    throw new KurError('build', `${path} has schema ${manifest.schema}; this kur reads schema 1`);
  }
  if (path === `${imagesDir}components.json`) cached = manifest;
  return manifest;
}

/** The build that produces a binary name (its own output, or a link of a multi-call binary). */
export function findBuild(
  manifest: ComponentsManifest,
  binary: string,
): { component: Component; build: GoBuild } | undefined {
  for (const component of manifest.components) {
    for (const build of component.go.builds) {
      if (build.output === binary || (build.links ?? []).includes(binary)) return { component, build };
    }
  }
  return undefined;
}

export function buildOf(
  manifest: ComponentsManifest,
  binary: string,
): { component: Component; build: GoBuild } {
  const found = findBuild(manifest, binary);
  if (found === undefined) {
    throw new KurError('build', `no component in images/components.json provides the binary "${binary}"`);
  }
  return found;
}

/**
 * When `file` is a multi-call binary that serves `binary` under another name (the Go path's
 * `kube`), that file's name: `binary` is then installed as a link to it. Release and local
 * sources bring separate files (`.../kubelet`), installed as they are.
 */
export function multiCallName(
  manifest: ComponentsManifest,
  binary: string,
  file: string,
): string | undefined {
  const build = findBuild(manifest, binary)?.build;
  if (build === undefined) return undefined;
  return build.output !== binary && posix.basename(file) === build.output ? build.output : undefined;
}

/**
 * images/registry.json: the local registry's server (`kur create registry`), pinned like a
 * component and built with components.json's Go settings, but into an image of its own on demand,
 * never into the node image. A file of its own, outside the node image recipe, so bumping it
 * changes no node image tag and no published node image digest (images/published.json).
 */
export interface RegistryComponent extends Component {
  /** The image kur assembles from it, e.g. `kur.local/registry:v3.1.2`. */
  image: string;
}

export function loadRegistryComponent(path = `${imagesDir}registry.json`): RegistryComponent {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as RegistryComponent;
  } catch (error) {
    throw new KurError('build', `cannot read the registry pin ${path}`, { cause: error });
  }
}
