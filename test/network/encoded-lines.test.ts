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
      // Longer than a chunk (256 KiB), and lone surrogates (encoded as U+FFFD, as Buffer.from does).
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
});
