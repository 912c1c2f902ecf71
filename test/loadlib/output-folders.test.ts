// The output folders of socket-controlled servers: each records its client's pid, and a sweep removes
// those whose client is gone (what a killed client leaves on Windows), never a live client's folder.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  makeOutputFolder,
  OUTPUT_FOLDER_PREFIX,
  removeOrphanedOutputFolders,
} from '../../src/loadlib/output-folders.js';

let parent: string;
beforeAll(() => {
  parent = mkdtempSync(join(tmpdir(), 'farcall-output-folders-'));
});
afterAll(() => {
  rmSync(parent, { recursive: true, force: true });
});

/** The pid of a process that has ended (and been reaped). */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' });
  return Number(child.stdout.trim());
}

function folder(name: string, owner: string | undefined): string {
  const dir = join(parent, `${OUTPUT_FOLDER_PREFIX}${name}`);
  mkdirSync(dir);
  writeFileSync(join(dir, 'stdout.txt'), 'output');
  if (owner !== undefined) writeFileSync(join(dir, 'owner.pid'), owner);
  return dir;
}

describe('output folders', () => {
  it('a new folder records the pid of this process', () => {
    const dir = makeOutputFolder(parent);
    expect(dir.startsWith(join(parent, OUTPUT_FOLDER_PREFIX))).toBe(true);
    expect(readFileSync(join(dir, 'owner.pid'), 'utf8')).toBe(String(process.pid));
    rmSync(dir, { recursive: true });
  });

  it("removes the folders of ended clients, and keeps live clients', unowned and foreign ones", () => {
    const orphan = folder('orphan', String(deadPid()));
    const mine = folder('mine', String(process.pid));
    const parents = folder('parent', String(process.ppid));
    const unowned = folder('unowned', undefined);
    const garbled = folder('garbled', 'not a pid');
    const other = join(parent, 'something-else');
    mkdirSync(other);
    writeFileSync(join(other, 'owner.pid'), String(deadPid()));

    expect(removeOrphanedOutputFolders(parent)).toEqual([orphan]);
    expect(existsSync(orphan)).toBe(false);
    for (const kept of [mine, parents, unowned, garbled, other]) expect(existsSync(kept)).toBe(true);
  });

  it('a missing parent folder is no error', () => {
    expect(removeOrphanedOutputFolders(join(parent, 'none'))).toEqual([]);
  });
});
