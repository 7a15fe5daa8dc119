import type { EngineInfo } from '../engine/detect.js';
import type { LocalRegistry } from '../kube/containerd.js';
import type { ClusterFacts } from '../kube/plan.js';
import type { NodeFacts } from '../node/layout.js';
import type { NodeImageMetadata } from '../nodeimage/image-labels.js';

/** The plan's facts from the engine, the node image and (once a node booted) its entrypoint. */
export function clusterFacts(
  info: EngineInfo,
  image: NodeImageMetadata,
  nodeImage: string,
  node: NodeFacts | undefined,
  registries: LocalRegistry[] = [],
): ClusterFacts {
  const cgroupVersion = node?.cgroupVersion ?? info.cgroupVersion ?? 2;
  // systemd is PID 1 in every node and owns the node's cgroups when it can write them.
  const noCgroups = node !== undefined && !node.cgroupWritable;
  return {
    rootless: info.rootless,
    cgroupVersion,
    cgroupDriver: noCgroups ? 'cgroupfs' : 'systemd',
    snapshotter: (node?.snapshotter ?? 'overlayfs') as ClusterFacts['snapshotter'],
    provider: info.provider,
    kubernetesVersion: image.kubernetesVersion,
    images: { node: nodeImage, pause: image.pauseImage, flannel: image.flannelImage },
    ...(noCgroups ? { noCgroups: true } : {}),
    // Lowering oom_score_adj (the pause container asks for -998) needs CAP_SYS_RESOURCE.
    ...(node !== undefined && !node.capSysResource ? { restrictOomScoreAdj: true } : {}),
    ...(registries.length > 0 ? { registries } : {}),
  };
}
