import { promises as fs } from 'node:fs';
import { dirname, join, posix } from 'node:path';
import { execa } from 'execa';
import { cachedEntry, cacheKey } from '../util/cache.js';
import { KurError, messageOf } from '../util/errors.js';
import { buildOf, multiCallName, type ComponentsManifest, type PreloadedImage } from './components.js';
import { packageClosure, packagePaths, parseDpkgStatus } from './dpkg.js';
import {
  directoryEntries,
  filterTar,
  readTarFiles,
  sortEntries,
  withParents,
  writeLayerTar,
  type LayerEntry,
} from './layer-tar.js';

/**
 * The container images kubeadm and the add-ons run (kube-apiserver, etcd, CoreDNS, pause,
 * Flannel, ...), built from the same binaries as the node, named exactly as kubeadm and the
 * manifests expect, and written by kur-preload straight into a containerd root that becomes one
 * layer of the node image: the node's containerd starts with them imported and pinned.
 *
 * Layers are shared wherever the content is the same: one layer per component (the Kubernetes
 * multi-call binary is one layer under every control-plane image and kube-proxy) and one layer of
 * netfilter tools lifted from the node's own Debian base for the images that need iptables/nft.
 */
export const containerdNamespace = 'k8s.io';
const imageEnv = ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'];

export interface PreloadInputs {
  manifest: ComponentsManifest;
  /** Binary name -> file, for every component. */
  binaries: Map<string, string>;
  baseRootfs: { path: string; sha256: string };
  preloadTool: string;
  cacheDir: string;
  arch: string;
  signal?: AbortSignal;
}

export interface PreloadResult {
  /** The layer holding /var/lib/containerd. */
  layer: string;
  images: { name: string; id: string }[];
  cached: boolean;
}

/**
 * Layer entries that put each wanted binary at its path; a link of a multi-call binary becomes
 * a symlink next to the one real file.
 */
export function binaryEntries(
  manifest: ComponentsManifest,
  binaries: Map<string, string>,
  wanted: [path: string, binary: string][],
): LayerEntry[] {
  const entries = new Map<string, LayerEntry>();
  for (const [where, binary] of wanted) {
    const file = binaries.get(binary);
    if (file === undefined) throw new KurError('build', `binary ${binary} (${where}) was not built`);
    const path = where.replace(/^\/+/, '');
    const multiCall = multiCallName(manifest, binary, file);
    if (multiCall === undefined) {
      entries.set(path, { type: 'file', path, source: file, mode: 0o755 });
    } else {
      const real = posix.join(posix.dirname(path), multiCall);
      entries.set(real, { type: 'file', path: real, source: file, mode: 0o755 });
      entries.set(path, { type: 'symlink', path, target: multiCall });
    }
  }
  return sortEntries(withParents([...entries.values()]));
}

/** Entries -> cached layer tarball (key: what the entries say and where their bytes come from). */
async function cachedLayer(cacheDir: string, name: string, entries: LayerEntry[]): Promise<string> {
  const key = cacheKey(JSON.stringify(entries));
  const path = join(cacheDir, 'layers', `${name}-${key}.tar`);
  await cachedEntry(path, (temp) => writeLayerTar(temp, entries));
  return path;
}

/** Debian packages with their dependency closure, lifted out of the base rootfs into one layer. */
async function debianLayer(inputs: PreloadInputs, packages: string[]): Promise<string> {
  // Bump the recipe tag when the selection logic changes: the key must change with it.
  const key = cacheKey('debian-layer-2', inputs.baseRootfs.sha256, ...packages);
  const path = join(inputs.cacheDir, 'layers', `debian-${key}.tar`);
  await cachedEntry(path, async (temp) => {
    const db = await readTarFiles(
      inputs.baseRootfs.path,
      (p) => p === 'var/lib/dpkg/status' || /^var\/lib\/dpkg\/info\/[^/]+\.list$/.test(p),
    );
    const status = db.get('var/lib/dpkg/status');
    if (status === undefined) throw new KurError('build', 'the base rootfs has no dpkg status database');
    const names = packageClosure(parseDpkgStatus(status.toString('utf8')), packages);
    const lists = new Map<string, string>();
    for (const [p, content] of db) {
      const match = /^var\/lib\/dpkg\/info\/([^/:]+)(?::[a-z0-9]+)?\.list$/.exec(p);
      if (match !== null) lists.set(match[1]!, content.toString('utf8'));
    }
    const paths = packagePaths(lists, names);
    // update-alternatives links (iptables -> iptables-nft) are made by maintainer scripts, not
    // listed; the merged-/usr links (/lib64 -> usr/lib64) hold the dynamic loader's path.
    const extra = /^(etc\/alternatives\/|usr\/sbin\/)(ip6?tables|arptables|ebtables)|^(bin|sbin|lib|lib64)$/;
    await filterTar(inputs.baseRootfs.path, temp, (p) => paths.has(p) || extra.test(p));
  });
  return path;
}

export async function buildPreloadLayer(inputs: PreloadInputs): Promise<PreloadResult> {
  const { manifest } = inputs;
  const debianPackages = [...new Set(manifest.images.flatMap((i) => i.debianPackages ?? []))].sort();
  const netfilter = debianPackages.length > 0 ? await debianLayer(inputs, debianPackages) : undefined;

  // One layer per component, holding every path any image wants from it.
  const byComponent = new Map<string, [string, string][]>();
  for (const image of manifest.images) {
    for (const [path, binary] of Object.entries(image.binaries)) {
      const name = buildOf(manifest, binary).component.name;
      byComponent.set(name, [...(byComponent.get(name) ?? []), [path, binary]]);
    }
  }
  const componentLayers = new Map<string, string>();
  for (const [name, wanted] of byComponent) {
    componentLayers.set(
      name,
      await cachedLayer(inputs.cacheDir, name, binaryEntries(manifest, inputs.binaries, wanted)),
    );
  }

  const imageLayers = (image: PreloadedImage): string[] => {
    const components = [
      ...new Set(Object.values(image.binaries).map((b) => buildOf(manifest, b).component.name)),
    ];
    // Manifest order keeps layer order stable, so shared layers form shared chains.
    const ordered = manifest.components.map((c) => c.name).filter((n) => components.includes(n));
    return [
      ...(image.debianPackages !== undefined && netfilter !== undefined ? [netfilter] : []),
      ...ordered.map((n) => componentLayers.get(n)!),
    ];
  };
  const spec = {
    namespace: containerdNamespace,
    labels: { 'io.cri-containerd.pinned': 'pinned' },
    images: manifest.images.map((image) => ({
      name: image.name,
      layers: imageLayers(image),
      architecture: inputs.arch,
      os: 'linux',
      config: {
        Entrypoint: image.entrypoint,
        Env: imageEnv,
        ...(image.user !== undefined ? { User: image.user } : {}),
      },
    })),
  };
  const specText = JSON.stringify(spec, null, 2);
  const key = cacheKey(specText, inputs.preloadTool);
  const root = join(inputs.cacheDir, 'preload', key);
  const layer = join(inputs.cacheDir, 'layers', `preload-${key}.tar`);
  const summaryPath = join(inputs.cacheDir, 'preload', `${key}.json`);
  let cached = true;
  await cachedEntry(layer, async (temp) => {
    cached = false;
    await fs.rm(root, { recursive: true, force: true });
    const specPath = `${root}.spec.json`;
    await fs.mkdir(dirname(root), { recursive: true });
    await fs.writeFile(specPath, specText);
    try {
      const result = await execa(inputs.preloadTool, ['--spec', specPath, '--root', root], {
        ...(inputs.signal !== undefined ? { cancelSignal: inputs.signal } : {}),
      });
      await fs.writeFile(summaryPath, result.stdout);
    } catch (error) {
      throw new KurError('build', 'kur-preload could not write the preloaded images', {
        detail: (error as { stderr?: string }).stderr ?? messageOf(error),
      });
    }
    await writeLayerTar(temp, sortEntries(withParents(await directoryEntries(root, 'var/lib/containerd'))));
    await fs.rm(root, { recursive: true, force: true });
  });
  return { layer, images: await preloadedIds(summaryPath), cached };
}

async function preloadedIds(summaryPath: string): Promise<{ name: string; id: string }[]> {
  try {
    const summary = JSON.parse(await fs.readFile(summaryPath, 'utf8')) as {
      images?: { name: string; config?: { digest?: string } }[];
    };
    return (summary.images ?? []).map((i) => ({ name: i.name, id: i.config?.digest ?? '' }));
  } catch {
    return [];
  }
}
