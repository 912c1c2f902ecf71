// Shared pieces of the Windows tests: farcall's Windows DLLs (built with MinGW) and Client64s whose
// server runs in 32-bit Windows Node.js under Wine. Set-up: bash scripts/setup-wine.sh --client64 --mingw
// (.ci/run does it).
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Client64, type Client64Options } from '../../src/loadlib/client64.js';
import { fixture } from './helpers.js';

/** The folder of the Windows test DLLs. */
export const WINDOWS_DLLS = fileURLToPath(new URL('../../native/build/windows/', import.meta.url));

/** A Windows test DLL's path. */
export function dll(name: string): string {
  return `${WINDOWS_DLLS}${name}`;
}

/** Builds the Windows test DLLs (skips what is up to date). */
export function buildWindowsDlls(): void {
  const script = fileURLToPath(new URL('../../scripts/build-windows-dlls.sh', import.meta.url));
  try {
    execFileSync('bash', [script], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 120_000 });
  } catch (err) {
    const stderr = (err as { stderr?: Buffer }).stderr?.toString() ?? '';
    throw new Error(
      `Building the Windows test DLLs failed (bash scripts/build-windows-dlls.sh):\n${stderr}`,
      {
        cause: err,
      },
    );
  }
}

/** Wine starts slowly, more so on a loaded machine: a generous start timeout. */
export const WINE_START_MS = 60_000;

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
