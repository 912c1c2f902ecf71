// Finding the Wine set-up (runtime: 'wine') and what a user reads when a piece is missing; reading a
// DLL's imports from its PE header. Only the last test starts Wine.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LibraryLoadError, Server32RuntimeNotFoundError } from '../../src/errors.js';
import { Client64 } from '../../src/loadlib/client64.js';
import { LoadLibrary } from '../../src/loadlib/library.js';
import { readPeImports } from '../../src/loadlib/pe-imports.js';
import {
  defaultWineDir,
  findWineServer32Runtime,
  prefixWindowsVersion,
  toWinePath,
} from '../../src/loadlib/wine.js';
import { fixture } from './helpers.js';
import { buildWindowsDlls, dll } from './windows-helpers.js';

let scratch: string;
beforeAll(() => {
  buildWindowsDlls();
  scratch = mkdtempSync(join(tmpdir(), 'farcall-wine-runtime-'));
}, 120_000);
afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
});

/** A Wine folder with a prefix that reports `version` (or none) and no runtime in it. */
function bareWineDir(name: string, version: string | undefined): string {
  const dir = join(scratch, name);
  mkdirSync(join(dir, 'prefix'), { recursive: true });
  writeFileSync(join(dir, 'prefix', 'system.reg'), 'WINE REGISTRY Version 2\n');
  const key =
    version === undefined ? '' : `[Software\\\\Wine] 1796119830\n#time=1\n"Version"="${version}"\n\n`;
  writeFileSync(
    join(dir, 'prefix', 'user.reg'),
    `WINE REGISTRY Version 2\n\n${key}[Software\\\\Other] 1\n"Version"="x"\n`,
  );
  return dir;
}

function notFound(run: () => unknown): Server32RuntimeNotFoundError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(Server32RuntimeNotFoundError);
    return error as Server32RuntimeNotFoundError;
  }
  throw new Error('expected a Server32RuntimeNotFoundError');
}

describe('finding the Wine runtime', () => {
  it('missing Wine: says so and names the set-up command', () => {
    const error = notFound(() => findWineServer32Runtime({ env: { PATH: '/nonexistent' } }));
    expect(error.code).toBe('ERR_FARCALL_SERVER32_RUNTIME_NOT_FOUND');
    expect(error.message).toContain("Wine is not installed: there is no 'wine' program on PATH");
    expect(error.message).toContain('bash node_modules/farcall/scripts/setup-wine.sh');
    const named = notFound(() => findWineServer32Runtime({ env: { FARCALL_WINE: '/nonexistent/wine' } }));
    expect(named.message).toContain('nor at FARCALL_WINE=/nonexistent/wine');
  });

  it('no prefix: says which folder and gives the command with --dir', () => {
    const dir = join(scratch, 'empty');
    const error = notFound(() => findWineServer32Runtime({ wineDir: dir }));
    expect(error.message).toContain(`The Wine prefix ${join(dir, 'prefix')} does not exist`);
    expect(error.message).toContain(`setup-wine.sh --dir '${dir}'`);
  });

  it('a prefix without the runtime: names the missing node.exe', () => {
    const dir = bareWineDir('no-runtime', 'win10');
    const error = notFound(() => findWineServer32Runtime({ wineDir: dir }));
    expect(error.message).toContain('has no 32-bit Windows Node.js');
    expect(error.message).toContain(join(dir, 'server32', 'node_modules', 'node-win-x86', 'bin', 'node.exe'));
  });

  it('a prefix reporting an old Windows: says Node.js 22 needs Windows 10', () => {
    const dir = bareWineDir('winxp', 'winxp');
    expect(prefixWindowsVersion(join(dir, 'prefix'))).toBe('winxp');
    const error = notFound(() => findWineServer32Runtime({ wineDir: dir }));
    expect(error.message).toContain(
      "reports Windows 'winxp', and Node.js 22 refuses to run below Windows 10",
    );
  });

  it('a runtime without koffi: names the missing win32-ia32 build', () => {
    const dir = bareWineDir('no-koffi', undefined);
    const nodeDir = join(dir, 'server32', 'node_modules', 'node-win-x86', 'bin');
    mkdirSync(nodeDir, { recursive: true });
    writeFileSync(join(nodeDir, 'node.exe'), 'MZ');
    const error = notFound(() => findWineServer32Runtime({ wineDir: dir }));
    expect(error.message).toMatch(/has no win32-ia32 build of koffi \d+\.\d+\.\d+/);
  });

  it('the real set-up: wine, the prefix in the Wine folder, WINEDEBUG quiet, koffi on NODE_PATH as a Z: path', () => {
    const runtime = findWineServer32Runtime();
    expect(runtime.prefix).toBe(join(defaultWineDir(), 'prefix'));
    expect(runtime.env.WINEPREFIX).toBe(runtime.prefix);
    expect(runtime.env.WINEDEBUG).toBe('-all');
    expect(runtime.env.NODE_PATH).toMatch(/^Z:\\.*\\koffi\\\d+\.\d+\.\d+\\node_modules$/);
    expect(runtime.args[0]).toMatch(/node-win-x86[/\\]bin[/\\]node\.exe$/);
    expect(prefixWindowsVersion(runtime.prefix)).toBe('win10');
  });

  it('Client64 with a Wine folder that has no prefix rejects ready with that error', async () => {
    const client = new Client64(fixture('windows-server.mjs'), {
      runtime: 'wine',
      wineDir: join(scratch, 'none'),
    });
    await expect(client.ready).rejects.toThrow(Server32RuntimeNotFoundError);
    await expect(client.ready).rejects.toThrow(/setup-wine\.sh --dir/);
    await client.shutdownServer32();
  });

  it("runtime: 'wine' refuses transport 'unix' (a Windows program has no Unix sockets) and an unknown runtime", () => {
    expect(() => new Client64('x', { runtime: 'wine', transport: 'unix' })).toThrow(
      /does not reach a server under Wine/,
    );
    expect(() => new Client64('x', { runtime: 'dosbox' as 'wine' })).toThrow(
      "runtime must be 'native' or 'wine'",
    );
  });
});

describe('paths and PE imports', () => {
  it('toWinePath maps the Linux root to Z: and leaves Windows paths alone', () => {
    expect(toWinePath('/opt/vendor/daq.dll')).toBe('Z:\\opt\\vendor\\daq.dll');
    expect(toWinePath('C:\\windows\\system32')).toBe('C:\\windows\\system32');
    expect(toWinePath('\\\\.\\pipe\\x')).toBe('\\\\.\\pipe\\x');
  });

  it('readPeImports lists the DLLs a DLL imports, 32- and 64-bit', () => {
    expect(readPeImports(dll('farcall_uses_dep-32.dll'))).toEqual(
      expect.arrayContaining(['KERNEL32.dll', 'farcall_dep-32.dll']),
    );
    expect(readPeImports(dll('farcall_example-64.dll'))).toEqual(expect.arrayContaining(['KERNEL32.dll']));
    expect(readPeImports(fixture('windows-server.mjs'))).toBeUndefined();
    expect(readPeImports('/nonexistent.dll')).toBeUndefined();
  });

  it('readPeImports survives a truncated or corrupted DLL', () => {
    const path = join(scratch, 'broken.dll');
    const whole = readFileSync(dll('farcall_uses_dep-32.dll'));
    for (const length of [0x40, 0x100, 0x400, whole.length >> 1]) {
      writeFileSync(path, whole.subarray(0, length));
      const imports = readPeImports(path);
      expect(imports === undefined || Array.isArray(imports)).toBe(true);
    }
    const garbled = Buffer.from(whole);
    for (let i = 0x200; i < garbled.length; i += 7) garbled[i] = 0xff;
    writeFileSync(path, garbled);
    const imports = readPeImports(path);
    expect(imports === undefined || Array.isArray(imports)).toBe(true);
  });
});

describe('a Windows DLL outside Windows', () => {
  it('LoadLibrary on Linux says it is a Windows DLL and points to runtime: wine', () => {
    for (const name of ['farcall_example-32.dll', 'farcall_example-64.dll']) {
      let error: unknown;
      try {
        new LoadLibrary(dll(name));
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(LibraryLoadError);
      expect((error as Error).message).toContain('it is a Windows DLL');
      expect((error as Error).message).toContain("runtime: 'wine'");
    }
  });
});
