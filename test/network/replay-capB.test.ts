import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManagerDatabase } from '../../src/network/manager/database.js';
import type { Manager } from '../../src/network/manager/manager.js';
import { startManager } from '../../src/network/manager/start-manager.js';
import { applyFixes, indexOf, parseCapture, replay } from './captures.js';

let home: string;
let manager: Manager;
beforeEach(async () => {
  home = mkdtempSync(join(tmpdir(), 'farcall-capB-'));
  // The users of the capture, in a real SQLite file in a temporary FARCALL_HOME.
  const db = new ManagerDatabase(join(home, 'manager.sqlite3'));
  await db.addUser('admin', 's3cret', { isAdmin: true });
  await db.addUser('bob', 'bob pw');
  db.close();
  manager = await startManager({
    port: 0,
    disableTls: true,
    home,
    authLogin: true,
    logLevel: 'silent',
    failureDelay: 20,
  });
});
afterEach(async () => {
  await manager.close();
  rmSync(home, { recursive: true, force: true });
});

describe('capture B (--auth-login: login, admin requests, non-admin refusal, wrong password, unknown user, shutdown)', () => {
  it('gives the same answers as the Python Manager, line by line, and shuts down on shutdown_manager', async () => {
    const captured = parseCapture('msl-network-capB.txt');
    const at = indexOf(captured, '"result": 18755');
    const entries = applyFixes(captured, [
      {
        reason: 'the admin request "port" answers our port',
        at,
        contains: '18755',
        replace: [{ ...captured[at], text: captured[at].text?.replace('18755', String(manager.port)) }],
      },
    ]);
    const compared = await replay(entries, { port: manager.port });
    expect(compared).toBe(entries.filter((e) => e.direction === 'mgr->peer' && e.text !== undefined).length);
    await manager.closed;
  });
});
