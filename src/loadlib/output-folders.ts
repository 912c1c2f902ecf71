/**
 * The private folders that hold a socket-controlled server's stdout and stderr files
 * (`<tmp>/farcall-server32-*`), and the removal of those a killed client left behind.
 *
 * On Windows an open file cannot be removed for good (it stays "delete pending" in its folder until the
 * last handle closes), so a client removes its server's folder when the server has ended. A client that is
 * killed removes nothing; its server then exits (its control connection closed), and the folder stays. So
 * each folder records the pid of the client that made it, and every start of a socket-controlled server
 * removes the folders whose client is gone. Off Windows the folder is removed as soon as the server has its
 * files open, so there is nothing to sweep.
 *
 * Runs in the client only.
 * @module
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The name every output folder starts with. */
export const OUTPUT_FOLDER_PREFIX = 'farcall-server32-';

/** The file in an output folder that names the pid of the client that made it. */
const OWNER_FILE = 'owner.pid';

/**
 * Makes a new output folder in `parent`, recording this process as its owner.
 *
 * @example
 * ```ts
 * const dir = makeOutputFolder(tmpdir()); // '/tmp/farcall-server32-Ab12Cd'
 * ```
 */
export function makeOutputFolder(parent: string): string {
  const dir = mkdtempSync(join(parent, OUTPUT_FOLDER_PREFIX));
  writeFileSync(join(dir, OWNER_FILE), String(process.pid));
  return dir;
}

/**
 * Removes the output folders in `parent` whose owner process has ended; keeps those of live owners, those
 * without an owner file (made by another farcall version: not ours to judge) and any it cannot remove yet
 * (a server still holding its files: the next sweep gets it). Never throws. Returns the folders removed.
 *
 * @example
 * ```ts
 * removeOrphanedOutputFolders(tmpdir()); // ['C:\\Users\\me\\AppData\\Local\\Temp\\farcall-server32-Ab12Cd']
 * ```
 */
export function removeOrphanedOutputFolders(parent: string): string[] {
  let names: string[];
  try {
    names = readdirSync(parent).filter((name) => name.startsWith(OUTPUT_FOLDER_PREFIX));
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const dir = join(parent, name);
    let owner: number;
    try {
      owner = Number(readFileSync(join(dir, OWNER_FILE), 'utf8'));
    } catch {
      continue;
    }
    if (!Number.isSafeInteger(owner) || owner <= 0 || owner === process.pid || isRunning(owner)) continue;
    try {
      // The owner file goes last: a server that outlived its client by a moment may still hold its files,
      // which Windows then keeps listed ("delete pending") until it exits. The folder stays, still owned,
      // and the next sweep removes it.
      for (const entry of readdirSync(dir)) {
        if (entry !== OWNER_FILE) rmSync(join(dir, entry), { recursive: true, force: true });
      }
      if (readdirSync(dir).some((entry) => entry !== OWNER_FILE)) continue;
      rmSync(dir, { recursive: true, force: true });
      removed.push(dir);
    } catch {
      // its server still holds a file: the next sweep removes it
    }
  }
  return removed;
}

/** True unless the system says there is no process `pid` (a process of another user counts as running). */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}
