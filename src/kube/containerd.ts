import { KurError } from '../util/errors.js';
import type { CgroupDriver } from './kubelet.js';
import type { JsonObject } from '../patch/json.js';
import { applyContainerdPatches, containerdConfigVersion, toToml } from '../patch/toml-patch.js';
import { kurRuncPath } from '../node/layout.js';

/** Chosen by the node's entrypoint: what mounts in this container (see images/node). */
export type Snapshotter = 'overlayfs' | 'fuse-overlayfs' | 'native';

/** containerd 2.x renamed the CRI plugin: images and runtime are separate plugins (config version 3). */
export const criImagesPlugin = 'io.containerd.cri.v1.images';
export const criRuntimePlugin = 'io.containerd.cri.v1.runtime';
/** The socket of containerd-fuse-overlayfs-grpc, as the node image's unit starts it. */
export const fuseOverlayfsSocket = '/run/containerd-fuse-overlayfs.sock';
/** Drop-ins the node entrypoint writes (its snapshotter choice); kept so they still apply. */
export const containerdDropIns = '/etc/containerd/conf.d/*.toml';

export interface ContainerdConfigInput {
  /** runc's SystemdCgroup follows the kubelet's driver; a mismatch breaks every pod. */
  cgroupDriver: CgroupDriver;
  snapshotter: Snapshotter;
  /** The pause image, preloaded; pinned so image GC never removes it. */
  sandboxImage: string;
  rootless: boolean;
  /**
   * The node cannot lower a process's oom_score_adj: it lacks CAP_SYS_RESOURCE (a host whose
   * bounding set lacks it, or a user namespace). Without this the CRI asks runc for -998 on every
   * pod sandbox and runc fails with `failed to update /proc/self/oom_score_adj: Permission denied`.
   */
  restrictOomScoreAdj: boolean;
  /**
   * Degraded mode: the node cannot create cgroups (rootless on a cgroup v1 host). runc goes
   * through kur-runc, which drops each container's cgroup path and limits. Needs the cgroupfs
   * driver: with the systemd driver runc would still ask systemd for a scope per container.
   */
  noCgroups?: boolean;
  /** Local registries the node pulls `localhost:<port>/…` through (a hosts.toml each under {@link certsDir}). */
  registries?: readonly LocalRegistry[];
  /** The user's `containerdConfigPatches` (TOML), merged in order. */
  patches: readonly string[];
  /** The user's `containerdConfigPatchesJSON6902`, applied after the TOML patches. */
  patchesJSON6902: readonly string[];
}

/** The generated containerd config as a table, before the user's patches. */
export function containerdConfigTable(input: ContainerdConfigInput): JsonObject {
  if (input.noCgroups && input.cgroupDriver === 'systemd') {
    throw new KurError('internal', 'containerd config: the no-cgroups mode needs the cgroupfs driver');
  }
  const runcOptions: JsonObject = { SystemdCgroup: input.cgroupDriver === 'systemd' };
  // runc would fail on the cgroup path the CRI always sets (containerd 2.x has no option to
  // leave it out): kur-runc removes it and the limits from each container's spec.
  if (input.noCgroups) runcOptions.BinaryName = kurRuncPath;
  const runtime: JsonObject = {
    containerd: {
      default_runtime_name: 'runc',
      runtimes: { runc: { runtime_type: 'io.containerd.runc.v2', options: runcOptions } },
    },
    cni: { bin_dirs: ['/opt/cni/bin'], conf_dir: '/etc/cni/net.d' },
  };
  // Without CAP_SYS_RESOURCE oom_score_adj cannot go below containerd's own: cap it there.
  if (input.rootless || input.restrictOomScoreAdj) runtime.restrict_oom_score_adj = true;
  if (input.rootless || input.noCgroups) {
    // In a user namespace no AppArmor profile can be loaded, and without writable cgroups no
    // hugetlb limit can be set (containerd 2.4 already defaults to the latter; stated so a
    // user's patch or a new default cannot bring it back unnoticed).
    runtime.disable_apparmor = true;
    runtime.disable_hugetlb_controller = true;
  }
  const config: JsonObject = {
    version: containerdConfigVersion,
    imports: [containerdDropIns],
    plugins: {
      [criImagesPlugin]: {
        snapshotter: input.snapshotter,
        // Keep compressed layers after unpacking: `kur load` and image export need them.
        discard_unpacked_layers: false,
        pinned_images: { sandbox: input.sandboxImage },
        // Per-registry hosts.toml files; set only when kur writes some, so users' own
        // registry settings in patches are left as they were.
        ...((input.registries ?? []).length > 0 ? { registry: { config_path: certsDir } } : {}),
      },
      [criRuntimePlugin]: runtime,
    },
  };
  if (input.snapshotter === 'fuse-overlayfs') {
    // fuse-overlayfs is not built into containerd 2.x: it is a proxy plugin over gRPC.
    config.proxy_plugins = { 'fuse-overlayfs': { type: 'snapshot', address: fuseOverlayfsSocket } };
  }
  return config;
}

/** /etc/containerd/config.toml for a node: generated table, then the user's patches. */
export function containerdConfig(input: ContainerdConfigInput): string {
  const patched = applyContainerdPatches(containerdConfigTable(input), input.patches, input.patchesJSON6902);
  return `# Generated by kur. Node drop-ins in /etc/containerd/conf.d apply on top.\n${toToml(patched)}`;
}

/** Where containerd looks for `<registry host>/hosts.toml` (the CRI images plugin's config_path). */
export const certsDir = '/etc/containerd/certs.d';

/** A local registry as nodes see it: `localhost:<hostPort>` in image names, served by container `name`. */
export interface LocalRegistry {
  name: string;
  hostPort: number;
  /** The port the registry listens on in its container, on the kur network. */
  containerPort: number;
}

/**
 * One hosts.toml per local registry: images named `localhost:<hostPort>/…` (what the user pushed to
 * from the host) are pulled over plain HTTP from the registry's container on the kur network. A
 * node's own localhost is not the host's, so without this a pull of that name goes nowhere.
 */
export function registryHostsFiles(
  registries: readonly LocalRegistry[],
): { path: string; content: string }[] {
  return registries.map((r) => ({
    path: `${certsDir}/localhost:${r.hostPort}/hosts.toml`,
    content:
      `# Generated by kur: local registry "${r.name}" (kur create registry).\n` +
      toToml({
        server: `http://${r.name}:${r.containerPort}`,
        host: { [`http://${r.name}:${r.containerPort}`]: { capabilities: ['pull', 'resolve'] } },
      }),
  }));
}
