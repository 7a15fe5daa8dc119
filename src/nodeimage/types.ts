import type { StepTiming } from '../ui/progress.js';

/**
 * Where Kubernetes and its companions come from: compiled from the Go module proxy (offline),
 * downloaded official releases (verified against their published checksums), or binaries the
 * user already has. kur's own small programs (pause, the flannel CNI plugin, kur-preload, kur-lb,
 * kur-runc) and components with no verifiable release are always built with Go.
 */
export type BinarySource = 'go' | 'release' | 'local';

export interface ComponentRecord {
  name: string;
  version: string;
  source: string;
  license: string | undefined;
  files: { path: string; sha256: string; size: number }[];
}

/**
 * /etc/kur/manifest.json in the image, and what `kur build node-image` prints. It holds no image
 * name: a tag is not part of the content, and the same inputs must give the same image ID
 * whatever the image is called.
 */
export interface NodeImageManifest {
  kubernetes: string;
  arch: string;
  base: {
    suite: string;
    sources: string[];
    /** Packages the recipe lists (images/base/packages.txt); the essential set comes on top. */
    packages: number;
    sha256: string;
    sizeBytes: number;
  };
  components: ComponentRecord[];
  preloadedImages: { name: string; id: string }[];
}

export interface BuiltNodeImage {
  image: string;
  imageId: string;
  manifest: NodeImageManifest;
  layers: { name: string; diffId: string; sizeBytes: number }[];
  sizeBytes: number;
  loaded: boolean;
  /** Where `--push` put it, and the digest the registry reported. */
  pushed?: { reference: string; digest: string | undefined };
  timings: StepTiming[];
}
