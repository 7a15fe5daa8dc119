import type { ClusterConfig } from '../../config/types.js';
import { localPathManifest } from './local-path.js';
import { networkPolicyManifest } from './network-policy.js';

export * from './local-path.js';
export * from './network-policy.js';

/**
 * The add-ons kur installs beside the pod network, each from images preloaded in the node image
 * and each switched off in the config. None is on create's critical path: kur applies them and
 * does not wait for them.
 */
export type AddonName = 'storage' | 'network-policy';

/** Image repositories (without tag) the add-ons run, as images/components.json names them. */
export const addonRepositories = {
  localPathProvisioner: 'docker.io/rancher/local-path-provisioner',
  localPathHelper: 'kur.local/local-path-helper',
  networkPolicies: 'kur.local/netpol',
} as const;

export type AddonImages = { -readonly [K in keyof typeof addonRepositories]?: string };

/**
 * Picks each add-on's image out of the images a node image preloads (its /etc/kur/manifest.json
 * `preloadedImages`): a node image built before an add-on existed simply lacks it.
 */
export function findAddonImages(preloaded: readonly string[]): AddonImages {
  const found: AddonImages = {};
  for (const [key, repository] of Object.entries(addonRepositories) as [keyof AddonImages, string][]) {
    const name = preloaded.find((n) => n.startsWith(`${repository}:`));
    if (name !== undefined) found[key] = name;
  }
  return found;
}

export interface AddonsPlan {
  /** One YAML stream with every enabled add-on, or undefined when none is. */
  manifest: string | undefined;
  installed: AddonName[];
  /** Enabled in the config but impossible with this node image: name and why. */
  missing: { addon: AddonName; reason: string }[];
}

/**
 * The add-on manifest for a cluster: what the config enables and the node image can run.
 * `apiServerEndpoint` is the plan's controlPlaneEndpoint.
 */
export function planAddons(
  config: Pick<ClusterConfig, 'networking' | 'storage'>,
  images: AddonImages,
  apiServerEndpoint: string,
  host: { networkPolicyUnsupported?: string } = {},
): AddonsPlan {
  const parts: string[] = [];
  const installed: AddonName[] = [];
  const missing: AddonsPlan['missing'] = [];
  const lacks = (what: string): string =>
    `the node image does not preload ${what}; rebuild it with this kur (\`kur build node-image\`)`;

  if (config.storage.defaultStorageClass) {
    if (images.localPathProvisioner === undefined || images.localPathHelper === undefined) {
      missing.push({ addon: 'storage', reason: lacks('local-path-provisioner and its helper') });
    } else {
      parts.push(
        localPathManifest({
          provisionerImage: images.localPathProvisioner,
          helperImage: images.localPathHelper,
          apiServerEndpoint,
        }),
      );
      installed.push('storage');
    }
  }
  if (config.networking.networkPolicy) {
    if (host.networkPolicyUnsupported !== undefined) {
      missing.push({
        addon: 'network-policy',
        reason: `NetworkPolicy objects will not be enforced: ${host.networkPolicyUnsupported} (set networking.networkPolicy: false to silence this)`,
      });
    } else if (images.networkPolicies === undefined) {
      missing.push({ addon: 'network-policy', reason: lacks('the NetworkPolicy agent (kur.local/netpol)') });
    } else {
      parts.push(
        networkPolicyManifest({
          image: images.networkPolicies,
          apiServerEndpoint,
          podSubnet: config.networking.podSubnet,
        }),
      );
      installed.push('network-policy');
    }
  }
  return { manifest: parts.length > 0 ? parts.join('') : undefined, installed, missing };
}
