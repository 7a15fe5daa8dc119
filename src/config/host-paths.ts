import { existsSync, mkdirSync } from 'node:fs';
import type { ClusterConfig } from './types.js';

/** What creating host paths needs from the host; tests pass fakes. */
export interface HostDirs {
  exists(path: string): boolean;
  /** mkdir -p with mode 0755, as the user running kur. */
  mkdirp(path: string): void;
}

const localDirs: HostDirs = {
  exists: existsSync,
  mkdirp: (path) => mkdirSync(path, { recursive: true, mode: 0o755 }),
};

/**
 * Creates, as the user running kur, the missing host paths of mounts that say
 * `createHostPath: true` (paths are already resolved by loading), so the engine never makes
 * them itself (as root, for a rootful engine). Call it just before the node containers are
 * created, on the engine's machine. Returns the directories it created, in order, for rollback.
 */
export function createHostPaths(config: ClusterConfig, dirs: HostDirs = localDirs): string[] {
  const created: string[] = [];
  for (const node of config.nodes) {
    for (const mount of node.extraMounts) {
      if (!mount.createHostPath || dirs.exists(mount.hostPath)) continue;
      dirs.mkdirp(mount.hostPath);
      created.push(mount.hostPath);
    }
  }
  return created;
}
