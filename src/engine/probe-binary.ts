/**
 * The smallest program that proves a container started: a static ELF whose only instructions
 * are `exit(0)`. kur writes it itself (ELF header, one program header, three instructions), so
 * the privilege probe needs nothing from the host and nothing from a registry.
 */

const machines = { amd64: 62, arm64: 183 } as const;
export type ProbeArch = keyof typeof machines;

const loadAddress = 0x400000n;
const headerSize = 64;
const programHeaderSize = 56;

/** exit(0) for each architecture's Linux syscall ABI. */
const exitCode: Record<ProbeArch, Buffer> = {
  // xor edi, edi; mov eax, 60 (exit); syscall
  amd64: Buffer.from([0x31, 0xff, 0xb8, 0x3c, 0x00, 0x00, 0x00, 0x0f, 0x05]),
  // movz x0, #0; movz x8, #93 (exit); svc #0 -- little-endian instruction words
  arm64: Buffer.from([0x00, 0x00, 0x80, 0xd2, 0xa8, 0x0b, 0x80, 0xd2, 0x01, 0x00, 0x00, 0xd4]),
};

export function isProbeArch(arch: string): arch is ProbeArch {
  return arch in machines;
}

/** A static ELF executable for `arch` that exits with status 0. */
export function exitZeroElf(arch: ProbeArch): Buffer {
  const code = exitCode[arch];
  const codeOffset = headerSize + programHeaderSize;
  const size = codeOffset + code.length;
  const elf = Buffer.alloc(size);
  // e_ident: magic, 64-bit, little-endian, version 1, System V ABI.
  elf.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0], 0);
  elf.writeUInt16LE(2, 16); // e_type: executable
  elf.writeUInt16LE(machines[arch], 18);
  elf.writeUInt32LE(1, 20); // e_version
  elf.writeBigUInt64LE(loadAddress + BigInt(codeOffset), 24); // e_entry
  elf.writeBigUInt64LE(BigInt(headerSize), 32); // e_phoff
  elf.writeBigUInt64LE(0n, 40); // e_shoff: no sections
  elf.writeUInt32LE(0, 48); // e_flags
  elf.writeUInt16LE(headerSize, 52);
  elf.writeUInt16LE(programHeaderSize, 54);
  elf.writeUInt16LE(1, 56); // e_phnum
  elf.writeUInt16LE(64, 58); // e_shentsize
  elf.writeUInt16LE(0, 60); // e_shnum
  elf.writeUInt16LE(0, 62); // e_shstrndx
  // The single PT_LOAD segment maps the whole file read+execute.
  const ph = headerSize;
  elf.writeUInt32LE(1, ph); // p_type: PT_LOAD
  elf.writeUInt32LE(5, ph + 4); // p_flags: R+X
  elf.writeBigUInt64LE(0n, ph + 8); // p_offset
  elf.writeBigUInt64LE(loadAddress, ph + 16); // p_vaddr
  elf.writeBigUInt64LE(loadAddress, ph + 24); // p_paddr
  elf.writeBigUInt64LE(BigInt(size), ph + 32); // p_filesz
  elf.writeBigUInt64LE(BigInt(size), ph + 40); // p_memsz
  elf.writeBigUInt64LE(0x1000n, ph + 48); // p_align
  code.copy(elf, codeOffset);
  return elf;
}

/**
 * The architecture of a statically linked 64-bit little-endian ELF executable (no PT_INTERP, so
 * it runs in an empty image), or undefined for anything else.
 */
export function staticElfArch(data: Buffer): ProbeArch | undefined {
  if (data.length < headerSize || data.readUInt32BE(0) !== 0x7f454c46) return undefined;
  if (data[4] !== 2 || data[5] !== 1) return undefined;
  const machine = data.readUInt16LE(18);
  const arch = (Object.keys(machines) as ProbeArch[]).find((a) => machines[a] === machine);
  if (arch === undefined) return undefined;
  const phoff = Number(data.readBigUInt64LE(32));
  const phentsize = data.readUInt16LE(54);
  const phnum = data.readUInt16LE(56);
  for (let i = 0; i < phnum; i += 1) {
    const at = phoff + i * phentsize;
    if (at + 4 > data.length) return undefined;
    if (data.readUInt32LE(at) === 3) return undefined; // PT_INTERP: needs a dynamic loader
  }
  return arch;
}
