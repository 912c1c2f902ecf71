import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Manager } from '../../src/network/manager/manager.js';
import { startManager } from '../../src/network/manager/start-manager.js';
import { stringifyJson } from '../../src/network/protocol/json.js';
import { applyFixes, type CaptureEntry, type CaptureFix, indexOf, parseCapture, replay } from './captures.js';

let home: string;
let manager: Manager;
beforeEach(async () => {
  home = mkdtempSync(join(tmpdir(), 'farcall-capE-'));
  manager = await startManager({ port: 0, disableTls: true, home, logLevel: 'silent' });
});
afterEach(async () => {
  await manager.close();
  rmSync(home, { recursive: true, force: true });
});

function error(connection: string, requester: string, uid: string, message: string): CaptureEntry {
  return {
    connection,
    direction: 'mgr->peer',
    text: stringifyJson({ error: true, message, requester, result: null, traceback: [], uid }),
  };
}

// The Python Manager forwards a request from a client that is not linked with a locked service; ours
// refuses it with the request's uid (links and locks are enforced on every forwarded request).
function refuseUnlinked(entries: CaptureEntry[], nth: number, service: string, sneaky: string): CaptureFix[] {
  const sent = indexOf(entries, `"args": ["no link"]`, 2 * nth);
  return [
    { reason: 'not forwarded', at: sent + 1, contains: '"requester"', replace: [] },
    { reason: 'no reply from the service', at: sent + 2, contains: '"result"', replace: [] },
    {
      reason: 'refused with its uid',
      at: sent + 3,
      contains: '"uid": "u1"',
      replace: [
        error(entries[sent + 3].connection, sneaky, 'u1', `PermissionError: '${service}' service is locked`),
      ],
    },
  ];
}

// The Python Manager answers a request to a vanished service with uid ""; ours echoes the request's uid.
function echoUid(entries: CaptureEntry[], uid: string): CaptureFix {
  const at = indexOf(
    entries,
    'Service is not connected',
    entries.slice(0, indexOf(entries, uid)).filter((e) => e.text?.includes('Service is not connected'))
      .length,
  );
  return {
    reason: 'the error carries the request uid',
    at,
    contains: '"uid": ""',
    replace: [{ ...entries[at], text: entries[at].text?.replace('"uid": ""', `"uid": "${uid}"`) }],
  };
}

describe('capture E (NaN/Infinity, a vanished service, locks vs max_clients, a notification for an unknown service)', () => {
  it('gives the same answers, except where farcall fixes the Python Manager', async () => {
    const captured = parseCapture('msl-network-capE.txt');
    const ghost = indexOf(captured, '"service": "Ghost"');
    const third = indexOf(captured, '"result": [[3], {}]');
    const fixes: CaptureFix[] = [
      ...refuseUnlinked(captured, 0, 'Echo', 'Sneaky[vm:36830]'),
      ...refuseUnlinked(captured, 1, 'Echo', 'Sneaky[vm:33940]'),
      echoUid(captured, 'c434417c-bbbe-4bab-93e2-e63eb45d78b3'),
      echoUid(captured, '75a13025-b644-49dd-a006-9e6fc94c2ae2'),
      {
        // The Python Manager's reader of "Raw" dies on the Ghost notification; ours answers with an error
        // and keeps reading, so notification [3] reaches the linked client B.
        reason: 'a notification for an unknown service is answered, and the service keeps being read',
        at: ghost + 1,
        contains: '"result": [[1], {}]',
        replace: [
          captured[ghost + 1],
          error(
            'c7',
            'Raw',
            'notification',
            `KeyError: "cannot forward a notification of the 'Ghost' service: no such service is connected to ` +
              `Manager[vm:18770] (this service is 'Raw')"`,
          ),
        ],
      },
      {
        reason: 'notification [3] is delivered',
        at: third,
        contains: '"result": [[3], {}]',
        replace: [captured[third], { connection: 'c8', direction: 'mgr->peer', text: captured[third].text }],
      },
    ];
    const entries = applyFixes(captured, fixes);
    const compared = await replay(entries, { port: manager.port });
    expect(compared).toBe(entries.filter((e) => e.direction === 'mgr->peer' && e.text !== undefined).length);
  });
});
