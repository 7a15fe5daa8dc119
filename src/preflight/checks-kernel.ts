import { kernelOptions, type FeatureState, type KernelOption } from './kernel-features.js';
import { kernelAtLeast } from './parse.js';
import { defineCheck, modprobeFix, type CheckContext, type CheckResult, type Report } from './result.js';

/** For a remote engine the kernel is the one it reports. */
export const kernelVersionCheck = defineCheck('kernel-version', 'kernel version', 'any', (ctx, report) => {
  const release = ctx.local === undefined ? ctx.engine.kernel : ctx.state.kernelRelease;
  const looked =
    ctx.local === undefined ? `engine reports kernel ${release || 'unknown'}` : `uname -r = ${release}`;
  if (!ctx.engine.rootless) return report('ok', looked, 'rootful engines use overlayfs on any kernel');
  const native = kernelAtLeast(release, 5, 11);
  if (native === undefined) return report('warn', looked, 'could not read the kernel version');
  if (native) return report('ok', looked, '>= 5.11: overlayfs works in a user namespace');
  return report(
    'warn',
    looked,
    "below 5.11 overlayfs cannot be mounted in a user namespace (except on kernels patched for it, as Ubuntu's): the nodes use fuse-overlayfs, which is slower and needs /dev/fuse",
    '# a kernel >= 5.11, or keep /dev/fuse usable by the engine user (see dev-fuse)',
  );
});

interface OptionJudgement {
  missing: KernelOption[];
  notLoaded: KernelOption[];
  unknown: KernelOption[];
}

function judge(ctx: CheckContext, options: readonly KernelOption[]): OptionJudgement {
  const states = ctx.state.kernel.options;
  const having = (state: FeatureState): KernelOption[] => options.filter((o) => states[o] === state);
  return { missing: having('missing'), notLoaded: having('module'), unknown: having('unknown') };
}

const stateLabels: [FeatureState, string][] = [
  ['builtin', 'built in'],
  ['loaded', 'module loaded'],
  ['module', 'module not loaded'],
  ['missing', 'missing'],
  ['unknown', 'unknown'],
];

/** `/proc/config.gz: built in: VXLAN NF_TABLES; module not loaded: XT_COMMENT`, grouped by state. */
function looked(ctx: CheckContext, options: readonly KernelOption[]): string {
  const states = ctx.state.kernel.options;
  const groups = stateLabels
    .map(([state, label]) => [label, options.filter((o) => states[o] === state)] as const)
    .filter(([, list]) => list.length > 0)
    .map(([label, list]) => `${label}: ${list.map((o) => o.replace(/^CONFIG_/, '')).join(' ')}`);
  return `${ctx.state.kernel.source}: ${groups.join('; ')}`;
}

const modulesOf = (options: KernelOption[]): string[] => options.map((o) => kernelOptions[o]);

/**
 * Verdict on kernel options a feature needs: missing fails; a module that is not loaded is fine
 * for a rootful engine (the kernel loads it on first use) but a rootless engine's user cannot
 * load modules, so it needs them loaded beforehand.
 */
function judgeOptions(
  ctx: CheckContext,
  report: Report,
  fixFile: string,
  options: readonly KernelOption[],
  purpose: string,
): CheckResult {
  const seen = looked(ctx, options);
  const { missing, notLoaded, unknown } = judge(ctx, options);
  if (missing.length > 0) {
    return report(
      'fail',
      seen,
      `the kernel has no ${missing.join(', ')}: ${purpose}`,
      `# a kernel built with ${missing.join(', ')} (Ubuntu: sudo apt-get install linux-modules-extra-$(uname -r))`,
    );
  }
  if (unknown.length > 0) {
    return report(
      'warn',
      seen,
      `could not read the kernel config or module lists for ${unknown.join(', ')} (${purpose})`,
    );
  }
  const modules = modulesOf(notLoaded);
  if (modules.length > 0 && ctx.engine.rootless) {
    const one = modules.length === 1;
    return report(
      'warn',
      seen,
      `${one ? 'module' : 'modules'} ${modules.join(', ')} ${one ? 'is' : 'are'} not loaded, and a rootless engine's user cannot load kernel modules (some, such as ip_tables, never load on first use): ${purpose}`,
      modprobeFix(modules, fixFile),
    );
  }
  const lazily = modules.length > 0 ? ` (${modules.join(', ')} load on first use)` : '';
  return report('ok', seen, `available${lazily}`);
}

export const vxlanCheck = defineCheck('kernel-vxlan', 'kernel: VXLAN', 'local', (ctx, report) => {
  if (ctx.request.defaultCni === false) {
    return report('skip', 'disableDefaultCNI: true', 'not needed: kur deploys no CNI');
  }
  return judgeOptions(
    ctx,
    report,
    'kur-vxlan.conf',
    ['CONFIG_VXLAN'],
    'Flannel connects pods across nodes with VXLAN (UDP 8472) and creates its VXLAN device on every node',
  );
});

export const bridgeNetfilterCheck = defineCheck(
  'kernel-bridge-netfilter',
  'kernel: bridge netfilter',
  'local',
  (ctx, report) => {
    const seen = `/proc/sys/net/bridge ${ctx.state.bridgeNetfilter ? 'present' : 'missing'}; ${looked(ctx, ['CONFIG_BRIDGE_NETFILTER'])}`;
    const purpose =
      'without it, a pod reaching a service whose backend runs on the same node gets no reply (bridged traffic skips iptables)';
    if (ctx.state.bridgeNetfilter) return report('ok', seen, 'br_netfilter is active');
    if (ctx.state.kernel.options.CONFIG_BRIDGE_NETFILTER === 'missing') {
      return report(
        'fail',
        seen,
        `the kernel has no CONFIG_BRIDGE_NETFILTER: ${purpose}`,
        '# a kernel built with CONFIG_BRIDGE_NETFILTER',
      );
    }
    const fix = modprobeFix(['br_netfilter'], 'kur-br-netfilter.conf');
    if (ctx.engine.rootless) {
      return report(
        'fail',
        seen,
        `br_netfilter is not loaded and a rootless engine cannot load it: ${purpose}`,
        fix,
      );
    }
    return report(
      'warn',
      seen,
      `br_netfilter is not loaded (a rootful engine may load it when it creates a network): ${purpose}`,
      fix,
    );
  },
);

const legacyBackend: KernelOption[] = ['CONFIG_IP_NF_IPTABLES', 'CONFIG_IP_NF_FILTER', 'CONFIG_IP_NF_NAT'];
const nftBackend: KernelOption[] = ['CONFIG_NF_TABLES', 'CONFIG_NFT_COMPAT', 'CONFIG_NFT_NAT'];
/** Matches and targets kube-proxy (iptables mode) and Flannel use, whichever iptables backend runs them. */
const iptablesRules: KernelOption[] = [
  'CONFIG_NF_CONNTRACK',
  'CONFIG_NF_NAT',
  'CONFIG_NETFILTER_XTABLES',
  'CONFIG_NETFILTER_XT_NAT',
  'CONFIG_NETFILTER_XT_MARK',
  'CONFIG_NETFILTER_XT_TARGET_MASQUERADE',
  'CONFIG_NETFILTER_XT_MATCH_ADDRTYPE',
  'CONFIG_NETFILTER_XT_MATCH_COMMENT',
  'CONFIG_NETFILTER_XT_MATCH_CONNTRACK',
  'CONFIG_NETFILTER_XT_MATCH_MULTIPORT',
  'CONFIG_NETFILTER_XT_MATCH_STATISTIC',
];
const nftablesProxy: KernelOption[] = [
  'CONFIG_NF_TABLES',
  'CONFIG_NFT_CT',
  'CONFIG_NFT_NAT',
  'CONFIG_NFT_MASQ',
];

/** The iptables backend the node can use: nft when the kernel has it whole, else legacy. */
function iptablesBackend(ctx: CheckContext): KernelOption[] {
  const complete = (options: KernelOption[]): boolean => judge(ctx, options).missing.length === 0;
  if (complete(nftBackend)) return nftBackend;
  return complete(legacyBackend) ? legacyBackend : [...nftBackend, ...legacyBackend];
}

export const netfilterCheck = defineCheck(
  'kernel-netfilter',
  'kernel: iptables / nftables',
  'local',
  (ctx, report) => {
    const mode = ctx.request.kubeProxyMode ?? 'iptables';
    const options = [
      ...new Set([...iptablesBackend(ctx), ...iptablesRules, ...(mode === 'nftables' ? nftablesProxy : [])]),
    ];
    return judgeOptions(
      ctx,
      report,
      'kur-netfilter.conf',
      options,
      `kube-proxy (${mode} mode) and Flannel program service and masquerade rules with them`,
    );
  },
);
