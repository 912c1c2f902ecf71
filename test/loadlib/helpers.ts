// Shared pieces of the Client64/Server32 tests.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { Client64Options } from '../../src/loadlib/client64-options.js';

/** The BUILT `farcall/loadlib` and `farcall` errors (dist/), typed as the sources. */
export async function builtFarcall(): Promise<
  typeof import('../../src/loadlib/index.js') & typeof import('../../src/errors.js')
> {
  const dist = (path: string): string => new URL(`../../dist/${path}`, import.meta.url).href;
  const loadlib = (await import(dist('loadlib/index.js'))) as typeof import('../../src/loadlib/index.js');
  const errors = (await import(dist('errors.js'))) as typeof import('../../src/errors.js');
  return { ...loadlib, ...errors };
}

/** The absolute path of a fixture module. */
export function fixture(name: string): string {
  return fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
}

/** The two ways a Client64 runs its server: a real 32-bit process, and in this process ("mocked"). */
export const MODES: [string, Client64Options][] = [
  ['the 32-bit server', {}],
  ['mocked mode (host: null)', { host: null }],
];

/**
 * Builds the Windows DLLs (MinGW) of the Windows tests and of the examples; skips what is up to date.
 */
export function buildWindowsDlls(): void {
  const script = fileURLToPath(new URL('../../scripts/build-windows-dlls.sh', import.meta.url));
  try {
    execFileSync('bash', [script], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 120_000 });
  } catch (err) {
    const stderr = (err as { stderr?: Buffer }).stderr?.toString() ?? '';
    throw new Error(`Building the Windows DLLs failed (bash scripts/build-windows-dlls.sh):\n${stderr}`, {
      cause: err,
    });
  }
}

/** Wine starts slowly, more so on a loaded machine: a generous start timeout. */
export const WINE_START_MS = 60_000;

/** A beforeAll hook's time limit that covers a Wine start on a loaded machine. */
export const WINE_HOOK_MS = WINE_START_MS + 30_000;

/**
 * The way a Client64 runs its server beside MODES: in 32-bit Windows Node.js under Wine (`runtime: 'wine'`),
 * where an example's server module loads its DLL (scripts/build-windows-dlls.sh builds them).
 */
export const WINE_MODE: [string, Client64Options] = [
  'the 32-bit Windows server under Wine',
  { runtime: 'wine', timeout: WINE_START_MS },
];

/** True while a process with this pid exists (and is not a zombie). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    // A zombie (exited, not yet reaped) is no longer running.
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** Waits until `pid` is gone, up to `ms`; returns whether it is. */
export async function waitUntilGone(pid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return true;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return !isAlive(pid);
}

/** The pids of this process's children (Linux /proc). */
export function childPids(parent = process.pid): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) === parent && fields[0] !== 'Z') pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

/** The farcall-server32-* folders in the temporary directory. */
export function server32TempDirs(): string[] {
  return readdirSync(tmpdir()).filter((name) => name.startsWith('farcall-server32-'));
}

/** The sockets `pid` listens on (TCP or Unix), from /proc: [] when it only holds connected ones. */
export function listeningSockets(pid: number): string[] {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (match) inodes.add(match[1]);
    } catch {
      // closed meanwhile
    }
  }
  const found: string[] = [];
  for (const table of ['tcp', 'tcp6']) {
    for (const line of readFileSync(`/proc/${pid}/net/${table}`, 'utf8').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length > 9 && f[3] === '0A' && inodes.has(f[9])) found.push(`${table} ${f[1]}`);
    }
  }
  for (const line of readFileSync(`/proc/${pid}/net/unix`, 'utf8').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    // Flags 00010000 = __SO_ACCEPTCON: a listening socket.
    if (f.length > 6 && f[3] === '00010000' && inodes.has(f[6])) found.push(`unix ${f[7] ?? ''}`);
  }
  return found;
}
