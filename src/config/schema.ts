/**
 * The shape of a `kind: Cluster` document, as data: the decoder walks it to reject unknown
 * keys and wrong types. One schema serves kur's own format and kind's: the field names are
 * the same, and kind's fields kur does not support are listed here with what to do instead.
 */

export type Schema =
  | { readonly type: 'string' }
  | { readonly type: 'integer' }
  | { readonly type: 'boolean' }
  | { readonly type: 'list'; readonly items: Schema }
  | { readonly type: 'map'; readonly values: Schema }
  | { readonly type: 'object'; readonly fields: Readonly<Record<string, Field>> };

/** Why a field (or one of its values) is refused, and what to do instead. */
export interface Refusal {
  readonly problem: string;
  readonly hint: string;
}

export interface Field {
  readonly schema: Schema;
  /** A field kind has and kur does not support; `accepts` lists values that are harmless no-ops. */
  readonly unsupported?: Refusal & { readonly accepts?: (value: unknown) => boolean };
  /** Values of a supported field that kur does not support (kind's `kubeProxyMode: ipvs`). */
  readonly unsupportedValues?: Readonly<Record<string, Refusal>>;
}

const string: Schema = { type: 'string' };
const integer: Schema = { type: 'integer' };
const boolean: Schema = { type: 'boolean' };
const strings: Schema = { type: 'list', items: string };
const f = (schema: Schema): Field => ({ schema });

const json6902: Schema = {
  type: 'object',
  fields: { group: f(string), version: f(string), kind: f(string), patch: f(string) },
};

const mount: Schema = {
  type: 'object',
  fields: {
    hostPath: f(string),
    containerPath: f(string),
    readOnly: f(boolean),
    propagation: f(string),
    createHostPath: f(boolean),
    selinuxRelabel: {
      schema: boolean,
      unsupported: {
        problem: 'is not supported by kur',
        hint: 'Remove it, and relabel the host path yourself if SELinux needs it (chcon -Rt container_file_t PATH).',
        accepts: (v) => v === false,
      },
    },
  },
};

const portMapping: Schema = {
  type: 'object',
  fields: { containerPort: f(integer), hostPort: f(integer), listenAddress: f(string), protocol: f(string) },
};

const node: Schema = {
  type: 'object',
  fields: {
    role: f(string),
    image: f(string),
    labels: f({ type: 'map', values: string }),
    extraMounts: f({ type: 'list', items: mount }),
    extraPortMappings: f({ type: 'list', items: portMapping }),
    kubeadmConfigPatches: f(strings),
    kubeadmConfigPatchesJSON6902: f({ type: 'list', items: json6902 }),
  },
};

const networking: Schema = {
  type: 'object',
  fields: {
    apiServerAddress: f(string),
    apiServerPort: f(integer),
    podSubnet: f(string),
    serviceSubnet: f(string),
    disableDefaultCNI: f(boolean),
    kubeProxyMode: {
      schema: string,
      unsupportedValues: {
        ipvs: {
          problem: 'ipvs is not supported by kur',
          hint: 'Use kubeProxyMode: nftables (or iptables); the ipvs mode is deprecated upstream.',
        },
        none: {
          problem: 'none (no kube-proxy) is not supported by kur',
          hint: 'Use iptables or nftables; a CNI that replaces kube-proxy can be installed with disableDefaultCNI: true.',
        },
      },
    },
    ipFamily: {
      schema: string,
      unsupported: {
        problem: 'only ipv4 is supported by kur (Flannel VXLAN over IPv4)',
        hint: 'Remove ipFamily, or set it to ipv4.',
        accepts: (v) => v === 'ipv4',
      },
    },
    networkPolicy: f(boolean),
    dnsSearch: {
      schema: strings,
      unsupported: {
        problem: 'is not supported by kur',
        hint: 'Remove it; node containers take DNS settings from the engine (daemon.json "dns-search" or containers.conf).',
      },
    },
  },
};

/** The `kind: Cluster` document (apiVersion and kind are checked before decoding). */
export const clusterSchema: Schema = {
  type: 'object',
  fields: {
    apiVersion: f(string),
    kind: f(string),
    name: f(string),
    nodes: f({ type: 'list', items: node }),
    networking: f(networking),
    storage: f({ type: 'object', fields: { defaultStorageClass: f(boolean) } }),
    featureGates: f({ type: 'map', values: boolean }),
    runtimeConfig: f({ type: 'map', values: string }),
    registries: f(strings),
    kubeadmConfigPatches: f(strings),
    kubeadmConfigPatchesJSON6902: f({ type: 'list', items: json6902 }),
    containerdConfigPatches: f(strings),
    containerdConfigPatchesJSON6902: f(strings),
  },
};
