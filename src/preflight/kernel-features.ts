import { moduleName, parseKernelConfig, parseLoadedModules, parseModulePaths } from './parse.js';

/**
 * Kernel options Kubernetes networking in node containers needs, with the module each builds.
 * Flannel's VXLAN backend needs VXLAN; pod-to-service traffic on one node's bridge needs bridge
 * netfilter; kube-proxy and Flannel program iptables (legacy or nft backend) with these matches
 * and targets; kube-proxy's nftables mode needs the nft expressions.
 */
export const kernelOptions = {
  CONFIG_VXLAN: 'vxlan',
  CONFIG_BRIDGE: 'bridge',
  CONFIG_BRIDGE_NETFILTER: 'br_netfilter',
  CONFIG_NF_CONNTRACK: 'nf_conntrack',
  CONFIG_NF_NAT: 'nf_nat',
  CONFIG_IP_NF_IPTABLES: 'ip_tables',
  CONFIG_IP_NF_FILTER: 'iptable_filter',
  CONFIG_IP_NF_NAT: 'iptable_nat',
  CONFIG_NF_TABLES: 'nf_tables',
  CONFIG_NFT_COMPAT: 'nft_compat',
  CONFIG_NFT_NAT: 'nft_nat',
  CONFIG_NFT_CT: 'nft_ct',
  CONFIG_NFT_MASQ: 'nft_masq',
  CONFIG_NETFILTER_XTABLES: 'x_tables',
  CONFIG_NETFILTER_XT_NAT: 'xt_nat',
  CONFIG_NETFILTER_XT_MARK: 'xt_mark',
  CONFIG_NETFILTER_XT_TARGET_MASQUERADE: 'xt_MASQUERADE',
  CONFIG_NETFILTER_XT_MATCH_ADDRTYPE: 'xt_addrtype',
  CONFIG_NETFILTER_XT_MATCH_COMMENT: 'xt_comment',
  CONFIG_NETFILTER_XT_MATCH_CONNTRACK: 'xt_conntrack',
  CONFIG_NETFILTER_XT_MATCH_MULTIPORT: 'xt_multiport',
  CONFIG_NETFILTER_XT_MATCH_STATISTIC: 'xt_statistic',
} as const;

export type KernelOption = keyof typeof kernelOptions;

/**
 * builtin: compiled in; loaded: a module that is loaded; module: a module that exists but is
 * not loaded; missing: the kernel has neither; unknown: nothing readable said.
 */
export type FeatureState = 'builtin' | 'loaded' | 'module' | 'missing' | 'unknown';

export interface KernelFeatures {
  /** What the states were read from, e.g. `/proc/config.gz` or `/lib/modules/<release>/modules.builtin`. */
  source: string;
  options: Record<KernelOption, FeatureState>;
}

export interface KernelSources {
  /** Text of the kernel config, and where it came from. */
  config?: { path: string; text: string } | undefined;
  /** /proc/modules, undefined when absent (a kernel without module support has none). */
  loadedModules?: string | undefined;
  /** /lib/modules/<release>/modules.builtin and modules.dep, with the directory they came from. */
  moduleLists?: { dir: string; builtin: string | undefined; dep: string | undefined } | undefined;
}

function allOptions(
  state: (option: KernelOption, module: string) => FeatureState,
): KernelFeatures['options'] {
  const entries = Object.entries(kernelOptions).map(([option, module]) => [
    option,
    state(option as KernelOption, moduleName(module)),
  ]);
  return Object.fromEntries(entries) as KernelFeatures['options'];
}

/** Reads option states from the config when there is one, else from the module lists. */
export function kernelFeaturesFrom(sources: KernelSources): KernelFeatures {
  const loaded =
    sources.loadedModules === undefined ? new Set<string>() : parseLoadedModules(sources.loadedModules);
  if (sources.config !== undefined) {
    const config = parseKernelConfig(sources.config.text);
    return {
      source: sources.config.path,
      options: allOptions((option, module) => {
        const value = config.get(option);
        if (value === 'y') return 'builtin';
        if (value === 'm') return loaded.has(module) ? 'loaded' : 'module';
        return 'missing';
      }),
    };
  }
  const lists = sources.moduleLists;
  if (lists?.builtin !== undefined && lists.dep !== undefined) {
    const builtin = parseModulePaths(lists.builtin);
    const available = parseModulePaths(lists.dep);
    return {
      source: `${lists.dir}/modules.builtin and modules.dep${sources.loadedModules === undefined ? '' : ', /proc/modules'}`,
      options: allOptions((_option, module) => {
        if (builtin.has(module)) return 'builtin';
        if (loaded.has(module)) return 'loaded';
        return available.has(module) ? 'module' : 'missing';
      }),
    };
  }
  if (sources.loadedModules !== undefined) {
    // Only the loaded modules are known: a module that is not loaded may be built in or absent.
    return {
      source: '/proc/modules',
      options: allOptions((_option, module) => (loaded.has(module) ? 'loaded' : 'unknown')),
    };
  }
  return { source: 'none', options: allOptions(() => 'unknown') };
}
