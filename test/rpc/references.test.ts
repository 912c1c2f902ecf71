import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, test } from 'vitest';
import { Action } from '../../src/rpc/messages.js';
import { ExportHolder, ExportTable, ImportedTarget, ImportTable } from '../../src/rpc/references.js';
import type { CallOptions, RequestChannel } from '../../src/rpc/remote-target.js';

// The garbage collector, without restarting the worker with --expose-gc.
setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

/** Records the RELEASE messages an import table sends and the requests its targets make. */
class RecordingPeer implements RequestChannel {
  readonly releases: [number, number][] = [];
  readonly requests: unknown[][] = [];
  sendRelease(id: number, count: number): void {
    this.releases.push([id, count]);
  }
  request(
    action: number,
    target: number | string,
    path: readonly string[],
    args: readonly unknown[],
    _o: CallOptions,
  ) {
    this.requests.push([action, target, path, args]);
    return Promise.resolve('done');
  }
  describePeer(): string {
    return 'the recording peer';
  }
}

function importOf(peer: RecordingPeer, table: ImportTable, id: number): ImportedTarget {
  return table.receive(id, (token) => new ImportedTarget(peer, table, token, 'Thing'));
}

describe('ExportTable', () => {
  test('the same object exported twice gets the same id', () => {
    const table = new ExportTable();
    const holder = new ExportHolder();
    const object = {};
    expect(table.export(object, holder)).toBe(table.export(object, holder));
    expect(table.export({}, holder)).not.toBe(table.export(object, holder));
  });

  test('an object stays lent until every reference handed out is released', () => {
    const table = new ExportTable();
    const holder = new ExportHolder();
    const object = {};
    const id = table.export(object, holder);
    table.export(object, holder);
    table.release(id, 1, holder);
    expect(table.lookup(id)).toBe(object);
    table.release(id, 1, holder);
    expect(table.lookup(id)).toBeUndefined();
  });

  test('a holder cannot release more references than it holds', () => {
    const table = new ExportTable();
    const alice = new ExportHolder();
    const bob = new ExportHolder();
    const object = {};
    const id = table.export(object, alice);
    table.export(object, bob);
    table.release(id, 5, bob);
    expect(table.lookup(id)).toBe(object);
    table.release(id, 1, alice);
    expect(table.lookup(id)).toBeUndefined();
  });

  test('a holder that goes away gives back everything it held', () => {
    const table = new ExportTable();
    const holder = new ExportHolder();
    const a = table.export({}, holder);
    const b = table.export(() => {}, holder);
    table.export({}, new ExportHolder());
    table.releaseHolder(holder);
    expect(table.lookup(a)).toBeUndefined();
    expect(table.lookup(b)).toBeUndefined();
    expect(table.size).toBe(1);
  });

  test('a reference retained for a third party can be released by that third party', () => {
    const table = new ExportTable();
    const borrower = new ExportHolder();
    const thirdParty = new ExportHolder();
    const object = {};
    const id = table.export(object, borrower);
    expect(table.retain(id, 1, borrower)).toBe(true);
    table.release(id, 1, borrower);
    expect(table.lookup(id)).toBe(object);
    table.release(id, 1, thirdParty);
    expect(table.lookup(id)).toBeUndefined();
  });

  test('retaining an id that is not lent is refused', () => {
    expect(new ExportTable().retain(7, 1, new ExportHolder())).toBe(false);
  });
});

describe('ImportTable', () => {
  test('an id received twice gives the same target with a count of two', () => {
    const peer = new RecordingPeer();
    const table = new ImportTable(peer);
    const first = importOf(peer, table, 3);
    expect(importOf(peer, table, 3)).toBe(first);
    expect(first.token.count).toBe(2);
  });

  test('releasing a target sends one RELEASE carrying its whole count', () => {
    const peer = new RecordingPeer();
    const table = new ImportTable(peer);
    const target = importOf(peer, table, 3);
    importOf(peer, table, 3);
    target.release();
    target.release();
    expect(peer.releases).toEqual([[3, 2]]);
  });

  test('an id received after its release gives a new target with a count of one', () => {
    const peer = new RecordingPeer();
    const table = new ImportTable(peer);
    const old = importOf(peer, table, 3);
    old.release();
    const fresh = importOf(peer, table, 3);
    expect(fresh).not.toBe(old);
    expect(fresh.token.count).toBe(1);
  });

  test('a released target refuses requests', async () => {
    const peer = new RecordingPeer();
    const table = new ImportTable(peer);
    const target = importOf(peer, table, 4);
    expect(await target.request(Action.CALL, ['go'], [], {})).toBe('done');
    target.release();
    await expect(target.request(Action.CALL, ['go'], [], {})).rejects.toThrow(/released/);
    expect(peer.requests).toEqual([[Action.CALL, 4, ['go'], []]]);
  });

  test('a target the garbage collector finds unused is released by the FinalizationRegistry', async () => {
    const peer = new RecordingPeer();
    const table = new ImportTable(peer);
    (() => {
      importOf(peer, table, 9);
      importOf(peer, table, 9);
    })();
    for (let i = 0; i < 50 && peer.releases.length === 0; i++) {
      collectGarbage();
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(peer.releases).toEqual([[9, 2]]);
    expect(table.size).toBe(0);
  });

  test('clearing the table (connection closed) sends no releases', () => {
    const peer = new RecordingPeer();
    const table = new ImportTable(peer);
    importOf(peer, table, 1);
    table.clear();
    expect(peer.releases).toEqual([]);
    expect(table.size).toBe(0);
  });
});
