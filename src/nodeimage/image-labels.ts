import { labelPrefix } from '../engine/labels.js';
import type { ImageInfo } from '../engine/types.js';
import { KurError } from '../util/errors.js';

/**
 * Node images describe themselves in their image labels, so a cluster is planned from the image
 * it runs (its Kubernetes version, the names of its preloaded images) and never from guesses.
 */
export const nodeImageLabels = {
  nodeImage: `${labelPrefix}node-image`,
  kubernetesVersion: `${labelPrefix}kubernetes-version`,
  pauseImage: `${labelPrefix}image.pause`,
  flannelImage: `${labelPrefix}image.flannel`,
} as const;

export interface NodeImageMetadata {
  kubernetesVersion: string;
  pauseImage: string;
  flannelImage: string;
}

export function nodeImageMetadata(image: ImageInfo, reference: string): NodeImageMetadata {
  const get = (key: string): string => {
    const value = image.labels[key];
    if (value === undefined || value === '') {
      throw new KurError('preflight', `${reference} is not a kur node image (label ${key} is missing)`, {
        hint: 'Build one with `kur build node-image`, or pass an image kur built with --image.',
      });
    }
    return value;
  };
  get(nodeImageLabels.nodeImage);
  return {
    kubernetesVersion: get(nodeImageLabels.kubernetesVersion),
    pauseImage: get(nodeImageLabels.pauseImage),
    flannelImage: get(nodeImageLabels.flannelImage),
  };
}
