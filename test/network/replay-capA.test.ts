import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Manager } from '../../src/network/manager/manager.js';
import { startManager } from '../../src/network/manager/start-manager.js';
import { applyFixes, parseCapture, replay } from './captures.js';

let home: string;
let manager: Manager;
beforeEach(async () => {
  home = mkdtempSync(join(tmpdir(), 'farcall-capA-'));
  manager = await startManager({ port: 0, disableTls: true, home, logLevel: 'silent' });
});
afterEach(async () => {
  await manager.close();
  rmSync(home, { recursive: true, force: true });
});

describe('capture A (no auth: identities, link, echo, errors, locks, notifications, disconnects)', () => {
  it('gives the same answers as the Python Manager, line by line', async () => {
    const captured = parseCapture('msl-network-capA.txt');
    // The capture ends with the Manager being stopped: it closes the Echo service's connection.
    const last = captured.length - 2;
    const entries = applyFixes(captured, [
      {
        reason: 'the Manager stops at the end of the capture',
        at: last,
        contains: '<EOF>',
        replace: [{ ...captured[last], before: () => manager.close() }],
      },
    ]);
    const compared = await replay(entries, { port: manager.port });
    expect(compared).toBe(entries.filter((e) => e.direction === 'mgr->peer' && e.text !== undefined).length);
  });
});
