import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Manager } from '../../src/network/manager/manager.js';
import { startManager } from '../../src/network/manager/start-manager.js';
import { parseCapture, replay } from './captures.js';

let home: string;
let manager: Manager;
beforeEach(async () => {
  home = mkdtempSync(join(tmpdir(), 'farcall-capC-'));
  manager = await startManager({
    port: 0,
    disableTls: true,
    home,
    authPassword: 'abc 123',
    logLevel: 'silent',
    failureDelay: 20,
  });
});
afterEach(async () => {
  await manager.close();
  rmSync(home, { recursive: true, force: true });
});

describe('capture C (--auth-password: Manager password, a terminal typing plain text)', () => {
  it('gives the same answers as the Python Manager, line by line', async () => {
    const entries = parseCapture('msl-network-capC.txt');
    const compared = await replay(entries, { port: manager.port });
    expect(compared).toBe(entries.filter((e) => e.direction === 'mgr->peer' && e.text !== undefined).length);
  });
});
