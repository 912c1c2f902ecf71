/**
 * Reads which CPU architecture a shared library was built for, from its header (ELF, PE or Mach-O), so
 * that loading a library of the wrong bitness gets a message that says so — the operating system's own
 * (`wrong ELF class: ELFCLASS32`, `%1 is not a valid Win32 application`) does not help a user.
 *
 * Runs inside the 32-bit server too: Node 18 APIs only.
 * @module
 */
import { closeSync, openSync, readSync } from 'node:fs';

/** The architecture a binary was built for, in Node's `process.arch` vocabulary where one exists. */
export interface BinaryArch {
  /** The file format. */
  format: 'elf' | 'pe' | 'mach-o';
  /** `'ia32'`, `'x64'`, `'arm'`, `'arm64'`, … or `'unknown'`. */
  arch: string;
  /** 32 or 64. */
  bits: 32 | 64;
}

const ELF_MACHINES: Record<number, string> = {
  3: 'ia32',
  8: 'mips',
  20: 'ppc',
  21: 'ppc64',
  40: 'arm',
  62: 'x64',
  183: 'arm64',
  243: 'riscv',
  258: 'loong64',
};

const PE_MACHINES: Record<number, { arch: string; bits: 32 | 64 }> = {
  332: { arch: 'ia32', bits: 32 },
  34404: { arch: 'x64', bits: 64 },
  452: { arch: 'arm', bits: 32 },
  43620: { arch: 'arm64', bits: 64 },
};

const MACHO_CPUS: Record<number, string> = {
  7: 'ia32',
  12: 'arm',
  16777223: 'x64',
  16777228: 'arm64',
};

/**
 * The architecture of a shared library, read from its header; `undefined` when the file cannot be read
 * or is not an ELF, PE or (thin) Mach-O binary — the caller then lets the system loader decide.
 *
 * @example
 * ```ts
 * readBinaryArch('/opt/vendor/libdaq.so'); // { format: 'elf', arch: 'ia32', bits: 32 }
 * ```
 */
export function readBinaryArch(path: string): BinaryArch | undefined {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return undefined;
  }
  try {
    const read = (position: number, length: number): Buffer => {
      const buffer = Buffer.alloc(length);
      const n = readSync(fd, buffer, 0, length, position);
      return buffer.subarray(0, n);
    };
    const head = read(0, 64);
    if (head.length < 20) return undefined;

    // ELF: "\x7fELF", EI_CLASS at 4 (1 = 32-bit, 2 = 64-bit), EI_DATA at 5, e_machine at 18.
    if (head[0] === 0x7f && head[1] === 0x45 && head[2] === 0x4c && head[3] === 0x46) {
      const bits = head[4] === 1 ? 32 : head[4] === 2 ? 64 : undefined;
      if (bits === undefined) return undefined;
      const machine = head[5] === 2 ? head.readUInt16BE(18) : head.readUInt16LE(18);
      let arch = ELF_MACHINES[machine] ?? 'unknown';
      if (arch === 'riscv') arch = `riscv${bits}`;
      return { format: 'elf', arch, bits };
    }

    // PE: "MZ", e_lfanew at 0x3c → "PE\0\0", then the COFF Machine field.
    if (head[0] === 0x4d && head[1] === 0x5a && head.length >= 0x40) {
      const peOffset = head.readUInt32LE(0x3c);
      const pe = read(peOffset, 6);
      if (pe.length < 6 || pe.readUInt32LE(0) !== 0x00004550) return undefined;
      const machine = PE_MACHINES[pe.readUInt16LE(4)];
      return machine ? { format: 'pe', ...machine } : { format: 'pe', arch: 'unknown', bits: 32 };
    }

    // Mach-O (thin): 0xfeedface (32-bit) / 0xfeedfacf (64-bit), little-endian on every Mac we support.
    const magic = head.readUInt32LE(0);
    if (magic === 0xfeedface || magic === 0xfeedfacf) {
      const bits = magic === 0xfeedfacf ? 64 : 32;
      return { format: 'mach-o', arch: MACHO_CPUS[head.readUInt32LE(4)] ?? 'unknown', bits };
    }
    return undefined;
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/** The bitness of this process: 64 on x64/arm64/…, 32 on ia32/arm. */
export function processBits(): 32 | 64 {
  return ['ia32', 'arm', 'mips', 'mipsel', 'ppc'].includes(process.arch) ? 32 : 64;
}
