/**
 * Linux capability names by bit number (include/uapi/linux/capability.h), for reading
 * `CapBnd:` masks from /proc and for asking an engine for "every capability it can grant".
 */
export const capabilityNames: readonly string[] = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_DAC_READ_SEARCH',
  'CAP_FOWNER',
  'CAP_FSETID',
  'CAP_KILL',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETPCAP',
  'CAP_LINUX_IMMUTABLE',
  'CAP_NET_BIND_SERVICE',
  'CAP_NET_BROADCAST',
  'CAP_NET_ADMIN',
  'CAP_NET_RAW',
  'CAP_IPC_LOCK',
  'CAP_IPC_OWNER',
  'CAP_SYS_MODULE',
  'CAP_SYS_RAWIO',
  'CAP_SYS_CHROOT',
  'CAP_SYS_PTRACE',
  'CAP_SYS_PACCT',
  'CAP_SYS_ADMIN',
  'CAP_SYS_BOOT',
  'CAP_SYS_NICE',
  'CAP_SYS_RESOURCE',
  'CAP_SYS_TIME',
  'CAP_SYS_TTY_CONFIG',
  'CAP_MKNOD',
  'CAP_LEASE',
  'CAP_AUDIT_WRITE',
  'CAP_AUDIT_CONTROL',
  'CAP_SETFCAP',
  'CAP_MAC_OVERRIDE',
  'CAP_MAC_ADMIN',
  'CAP_SYSLOG',
  'CAP_WAKE_ALARM',
  'CAP_BLOCK_SUSPEND',
  'CAP_AUDIT_READ',
  'CAP_PERFMON',
  'CAP_BPF',
  'CAP_CHECKPOINT_RESTORE',
];

/** The names of the bits set in a hex mask such as /proc's `000001fffeffffff`; unnamed bits are ignored. */
export function capabilitiesFromMask(hex: string): string[] {
  if (!/^[0-9a-f]+$/i.test(hex)) throw new Error(`"${hex}" is not a capability mask`);
  const mask = BigInt(`0x${hex}`);
  return capabilityNames.filter((_, bit) => (mask >> BigInt(bit)) & 1n);
}

/** The `CapBnd:` mask of a /proc/<pid>/status text. */
export function boundingSetOf(status: string): string | undefined {
  return /^CapBnd:\s*([0-9a-f]+)\s*$/im.exec(status)?.[1];
}
