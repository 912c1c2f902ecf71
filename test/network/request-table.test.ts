// A Client's table of pending requests: entries found through the counter inside their uid
// (PendingSlots), held to a Map as the model under random adds, replies, forged and stale uids.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PendingSlots } from '../../src/network/peers/pending-slots.js';
import { RequestTable } from '../../src/network/peers/request-table.js';

interface Entry {
  uid: string;
  sequence: number;
}

// add: a new entry with the next number (after `skip` unused ones); drop k: remove the k-th held entry
// (in the order added); get: look up a held, a removed or a made-up uid.
type Step =
  | { kind: 'add'; skip: number }
  | { kind: 'drop'; pick: number }
  | { kind: 'get'; pick: number; forge: boolean };

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('add' as const), skip: fc.nat(700) }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('drop' as const), pick: fc.nat() }) },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant('get' as const), pick: fc.nat(), forge: fc.boolean() }),
  },
);

describe('PendingSlots', () => {
  it('holds exactly what a Map holds, through growth and the overflow', () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 400 }), fc.constantFrom(256, 512, 1024), (steps, maxSlots) => {
        const slots = new PendingSlots<Entry>(maxSlots);
        const model = new Map<string, Entry>();
        const everAdded: Entry[] = [];
        let next = 0;
        for (const s of steps) {
          if (s.kind === 'add') {
            next += s.skip;
            const entry = { uid: `p${next.toString(36)}`, sequence: next++ };
            slots.add(entry);
            model.set(entry.uid, entry);
            everAdded.push(entry);
          } else if (s.kind === 'drop') {
            const held = [...model.values()];
            if (held.length === 0) continue;
            const entry = held[s.pick % held.length];
            expect(slots.delete(entry)).toBe(true);
            expect(slots.delete(entry)).toBe(false);
            model.delete(entry.uid);
          } else if (everAdded.length > 0) {
            const entry = everAdded[s.pick % everAdded.length];
            // A forged uid with a held entry's number finds nothing: the uid must be the same text.
            const uid = s.forge ? `${entry.uid}x` : entry.uid;
            expect(slots.get(uid, entry.sequence)).toBe(model.get(uid));
          }
          expect(slots.size).toBe(model.size);
        }
        const held = (list: Entry[]) => list.map((e) => e.sequence).sort((a, b) => a - b);
        expect(held(slots.values())).toEqual(held([...model.values()]));
        for (const entry of everAdded) expect(slots.has(entry)).toBe(model.get(entry.uid) === entry);
      }),
      { numRuns: 300 },
    );
  });

  it('keeps one long-pending entry among a million later ones in a small array', () => {
    const slots = new PendingSlots<Entry>(1024);
    const first = { uid: 'p0', sequence: 0 };
    slots.add(first);
    let found = 0;
    for (let n = 1; n <= 1_000_000; n++) {
      const entry = { uid: `p${n}`, sequence: n };
      slots.add(entry);
      if (slots.get(entry.uid, n) === entry) found++;
      slots.delete(entry);
    }
    expect(found).toBe(1_000_000);
    expect(slots.size).toBe(1);
    expect(slots.get('p0', 0)).toBe(first);
  });
});

describe('RequestTable', () => {
  it('settles each request by its own uid and nothing by a forged or stale one', async () => {
    const table = new RequestTable('cafe0001');
    const uids = Array.from({ length: 3000 }, () => table.nextUid());
    const replies = uids.map((uid) => table.add(uid, 'Echo', 'echo', false, 30_000, undefined));
    expect(table.size).toBe(3000);
    // Another connection's uid with the same counter, a prefix alone, a counter with junk after it.
    for (const forged of ['beef00010', 'cafe0001', 'cafe0001zz!', `${uids[5]} `, '', 'cafe0001-1']) {
      expect(table.resolve(forged, 'forged')).toBe(false);
    }
    // In reverse order, so that replies never arrive in the order sent.
    for (let i = uids.length - 1; i >= 0; i--) expect(table.resolve(uids[i], i)).toBe(true);
    expect(table.resolve(uids[7], 'again')).toBe(false);
    expect(table.size).toBe(0);
    expect(await Promise.all(replies)).toEqual(uids.map((_, i) => i));
  });

  it('refuses a uid it did not make', () => {
    const table = new RequestTable('cafe0001');
    expect(() => table.add('someone-else', 'Echo', 'echo', false, 1000, undefined)).toThrow(TypeError);
  });

  it('fails every pending request once, a long-pending one among 70 000 answered ones included', async () => {
    const table = new RequestTable('ab');
    const first = table.add(table.nextUid(), 'Echo', 'slow', false, 30_000, undefined);
    const later = Array.from({ length: 70_000 }, () => table.nextUid());
    for (const uid of later) {
      const reply = table.add(uid, 'Echo', 'fast', false, 30_000, undefined);
      table.resolve(uid, 1);
      await reply;
    }
    const last = table.add(table.nextUid(), 'Echo', 'slow', false, 30_000, undefined);
    expect(table.size).toBe(2);
    table.failAll(() => new Error('gone'));
    await expect(first).rejects.toThrow('gone');
    await expect(last).rejects.toThrow('gone');
    expect(table.size).toBe(0);
  });
});
