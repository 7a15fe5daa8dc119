import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { arch, platform, tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { exitZeroElf, staticElfArch } from './probe-binary.js';

describe('probe binary', () => {
  it('writes a static ELF for amd64 and arm64 that reads back as such', () => {
    for (const target of ['amd64', 'arm64'] as const) {
      const elf = exitZeroElf(target);
      expect(staticElfArch(elf)).to.equal(target);
      expect(elf.length).to.be.lessThan(200);
    }
  });

  it('refuses dynamically linked and foreign files', () => {
    const elf = exitZeroElf('amd64');
    const dynamic = Buffer.from(elf);
    dynamic.writeUInt32LE(3, 64); // turn the PT_LOAD into a PT_INTERP
    expect(staticElfArch(dynamic)).to.equal(undefined);
    expect(staticElfArch(Buffer.from('#!/bin/sh\nexit 0\n'))).to.equal(undefined);
  });

  const native = platform() === 'linux' && (arch() === 'x64' || arch() === 'arm64');
  (native ? it : it.skip)('runs and exits 0 on this machine (Linux amd64/arm64 only)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kur-probe-'));
    try {
      const path = join(dir, 'probe');
      writeFileSync(path, exitZeroElf(arch() === 'x64' ? 'amd64' : 'arm64'), { mode: 0o755 });
      execFileSync(path); // throws on a non-zero exit or a crash
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
