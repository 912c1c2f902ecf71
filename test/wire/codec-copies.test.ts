import { describe, expect, it } from 'vitest';
import { RemoteReference, Codec as SourceCodec } from '../../src/wire/codec.js';

// msgpackr's extensions are global to the process. A process may hold two copies of farcall (its sources
// and its build — as a mocked Server32 under vitest does — or two installed versions); each must work
// whichever copy's extension msgpackr happens to call.
describe('two copies of the codec in one process', () => {
  it('encode in one copy and decode in the other, both ways, Maps and large binaries included', async () => {
    const { Codec: BuiltCodec } = await import('../../dist/wire/codec.js');
    const value = { m: new Map([[1, 'a']]), big: new Float64Array(20_000).fill(2), s: new Set([1]) };
    for (const [Encoder, Decoder] of [
      [SourceCodec, BuiltCodec],
      [BuiltCodec, SourceCodec],
    ] as const) {
      const out = new Decoder().decode(new Encoder().encode(value)) as typeof value;
      expect(out.m.get(1)).toBe('a');
      expect(out.big[19_999]).toBe(2);
      expect(out.s.has(1)).toBe(true);
    }
  });

  it("hands a reference made by one copy to the other copy's hooks", async () => {
    const { Codec: BuiltCodec } = await import('../../dist/wire/codec.js');
    const seen: unknown[] = [];
    const decoder = new BuiltCodec({
      hooks: {
        encodeObject: () => {
          throw new Error('not used');
        },
        decodeReference: (reference) => {
          seen.push(reference.objectId);
          return 'proxy';
        },
      },
    });
    const bytes = new SourceCodec().encode([new RemoteReference('owner', 7, null, false, 'X')]);
    expect(decoder.decode(bytes)).toEqual(['proxy']);
    expect(seen).toEqual([7]);
  });
});
