// What machine code a file holds, from its header: ELF (Linux), Mach-O (macOS) or PE
// (Windows), and the CPU as Node's process.arch names it. null: not a native binary.

const ELF_MACHINES = { 0x03: 'ia32', 0x28: 'arm', 0x3e: 'x64', 0xb7: 'arm64' };
const MACHO_CPUS = { 0x01000007: 'x64', 0x0100000c: 'arm64', 7: 'ia32', 12: 'arm' };
const PE_MACHINES = { 0x8664: 'x64', 0xaa64: 'arm64', 0x014c: 'ia32', 0x01c4: 'arm' };
export const FORMAT_OF_OS = Object.freeze({ linux: 'elf', darwin: 'macho', win32: 'pe' });

/**
 * @param {Buffer} b the file's first bytes (at least 64; PE needs its header too)
 * @returns {{ format: 'elf' | 'macho' | 'pe', arch: string[] } | null}
 */
export function binaryFormat(b) {
  if (b.length >= 20 && b.readUInt32BE(0) === 0x7f454c46) {
    const machine = b[5] === 2 ? b.readUInt16BE(18) : b.readUInt16LE(18);
    return { format: 'elf', arch: [ELF_MACHINES[machine] ?? `machine 0x${machine.toString(16)}`] };
  }
  if (b.length >= 8) {
    const magic = b.readUInt32LE(0);
    if (magic === 0xfeedfacf || magic === 0xfeedface) {
      const cpu = b.readUInt32LE(4);
      return { format: 'macho', arch: [MACHO_CPUS[cpu] ?? `cpu ${cpu}`] };
    }
    if (b.readUInt32BE(0) === 0xcafebabe) {
      // Universal binary: a list of (cputype, ...) records, big-endian.
      const n = b.readUInt32BE(4);
      const arch = [];
      for (let i = 0; i < n && 8 + i * 20 + 4 <= b.length; i++) {
        const cpu = b.readUInt32BE(8 + i * 20);
        arch.push(MACHO_CPUS[cpu] ?? `cpu ${cpu}`);
      }
      return { format: 'macho', arch };
    }
  }
  if (b.length >= 64 && b.toString('latin1', 0, 2) === 'MZ') {
    const pe = b.readUInt32LE(0x3c);
    if (pe + 6 <= b.length && b.readUInt32BE(pe) === 0x50450000) {
      const machine = b.readUInt16LE(pe + 4);
      return { format: 'pe', arch: [PE_MACHINES[machine] ?? `machine 0x${machine.toString(16)}`] };
    }
  }
  return null;
}
