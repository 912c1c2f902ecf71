// The Manager's log encodes its lines into shared buffers as they come and hands them to the file in a
// few pieces: what reaches the file must be exactly the lines' UTF-8, in order, and a piece already
// handed over must never change while later lines are encoded (the file write is asynchronous).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EncodedLines } from '../../src/network/manager/encoded-lines.js';

describe('EncodedLines', () => {
  it('gives back exactly the UTF-8 of what was appended, in order, and never changes what it gave', () => {
    const text = fc.oneof(
      fc.string({ unit: 'grapheme', maxLength: 200 }),
      fc.string({ unit: 'binary', maxLength: 50 }),
      // Longer than a chunk (64 KiB), and lone surrogates (encoded as U+FFFD, as Buffer.from does).
      fc.constantFrom('x'.repeat(300_000), 'é'.repeat(100_000), '\ud800', 'a\udc00b'),
    );
    const step = fc.oneof(
      text.map((t) => ({ append: t })),
      fc.constant({ take: true as const }),
    );
    fc.assert(
      fc.property(fc.array(step, { maxLength: 40 }), (steps) => {
        const lines = new EncodedLines();
        const given: { piece: Buffer; copy: Buffer }[] = [];
        let expected = '';
        let bytes = 0;
        const take = () => {
          for (const piece of lines.take()) given.push({ piece, copy: Buffer.from(piece) });
          expect(lines.bytes).toBe(0);
        };
        for (const s of steps) {
          if ('take' in s) take();
          else {
            bytes += lines.append(s.append);
            expected += s.append;
            expect(lines.bytes).toBe(bytes - given.reduce((n, g) => n + g.piece.length, 0));
          }
        }
        take();
        for (const { piece, copy } of given) expect(piece.equals(copy)).toBe(true);
        const all = Buffer.concat(given.map((g) => g.piece));
        expect(all.equals(Buffer.from(expected, 'utf8'))).toBe(true);
        expect(all.length).toBe(bytes);
      }),
      { numRuns: 300 },
    );
  });

  it('reuses only what was given back: lines as text or as encoded parts, taken in full or the full buffers only', () => {
    const plain = fc.string({
      unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
      maxLength: 40,
    });
    const middle = fc.oneof(plain, fc.string({ unit: 'binary', maxLength: 20 }));
    const bytes = fc.uint8Array({ maxLength: 60 });
    const step = fc.oneof(
      {
        weight: 4,
        arbitrary: fc.string({ unit: 'grapheme', maxLength: 300 }).map((t) => ({ kind: 'text' as const, t })),
      },
      {
        weight: 8,
        arbitrary: fc
          .tuple(bytes, bytes, middle, bytes)
          .map(([prefix, head, m, tail]) => ({ kind: 'parts' as const, prefix, head, m, tail })),
      },
      { weight: 1, arbitrary: fc.constant({ kind: 'long' as const }) },
      { weight: 1, arbitrary: fc.constant({ kind: 'take' as const }) },
      { weight: 2, arbitrary: fc.constant({ kind: 'takeFull' as const }) },
      { weight: 2, arbitrary: fc.nat().map((k) => ({ kind: 'release' as const, k })) },
    );
    const isPlain = (m: string) =>
      [...m].every((ch) => {
        const c = ch.charCodeAt(0);
        return ch.length === 1 && c >= 0x20 && c <= 0x7e && c !== 0x22 && c !== 0x27 && c !== 0x5c;
      });
    fc.assert(
      fc.property(fc.array(step, { maxLength: 2000 }), (steps) => {
        const lines = new EncodedLines();
        const expected: Buffer[] = [];
        const given: Buffer[] = [];
        // Taken and not yet given back: must not change.
        const held: { piece: Buffer; copy: Buffer }[] = [];
        const take = (pieces: Buffer[]) => {
          for (const piece of pieces) {
            given.push(Buffer.from(piece));
            held.push({ piece, copy: Buffer.from(piece) });
          }
        };
        for (const s of steps) {
          if (s.kind === 'text') {
            lines.append(s.t);
            expected.push(Buffer.from(s.t, 'utf8'));
          } else if (s.kind === 'long') {
            lines.append('z'.repeat(70_000));
            expected.push(Buffer.from('z'.repeat(70_000)));
          } else if (s.kind === 'parts') {
            const ok = lines.appendParts(s.prefix, s.head, s.m, s.tail);
            expect(ok).toBe(isPlain(s.m));
            if (ok)
              expected.push(
                Buffer.concat([s.prefix, s.head, Buffer.from(s.m, 'latin1'), s.tail, Buffer.from('\n')]),
              );
          } else if (s.kind === 'take') take(lines.take());
          else if (s.kind === 'takeFull') {
            const before = lines.bytes;
            const full = lines.takeFull();
            take(full);
            expect(lines.bytes).toBe(before - full.reduce((n, p) => n + p.length, 0));
            expect(lines.hasFull).toBe(false);
          } else if (held.length > 0) {
            const [{ piece }] = held.splice(s.k % held.length, 1);
            lines.release(piece);
          }
          for (const { piece, copy } of held) expect(piece.equals(copy)).toBe(true);
        }
        take(lines.take());
        expect(lines.bytes).toBe(0);
        expect(Buffer.concat(given).equals(Buffer.concat(expected))).toBe(true);
      }),
      { numRuns: 150 },
    );
  });
});
