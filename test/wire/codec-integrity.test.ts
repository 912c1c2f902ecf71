// Issue 7 §2: every value arrives as it was sent — the cases found by hand and by the property tests,
// kept as fixed regression cases. They run with msgpackr's native string extraction (the default install)
// and, through codec-modes.test.ts, without it.
import { describe, expect, test } from 'vitest';
import { RemoteError } from '../../src/errors.js';
import { isProxy } from '../../src/rpc/proxy.js';
import { Codec, RemoteReference } from '../../src/wire/codec.js';
import { serverAndClient } from '../rpc/helpers.js';

class Thing {
  hello(): string {
    return 'hi';
  }
}

class Api {
  thingBesideText(): unknown {
    return { obj: new Thing(), label: 'after', note: 'N'.repeat(150) };
  }
  errorBesideText(): unknown {
    return { error: new TypeError('boom'), label: 'after', more: 'x'.repeat(150) };
  }
  tiny(): Buffer {
    return Buffer.from('tiny');
  }
  slice(): Uint8Array {
    return new Uint8Array(new ArrayBuffer(1024), 100, 4);
  }
  echo(value: unknown): unknown {
    return value;
  }
}

describe('values beside long strings (msgpackr-extract pre-extracts the strings of the outer message)', () => {
  test('a reference followed by more keys arrives as a working proxy', async () => {
    const { client } = await serverAndClient({ api: new Api() });
    const result = (await client.get<Api>('api').thingBesideText()) as {
      obj: { hello(): Promise<string> };
      label: string;
      note: string;
    };
    expect(isProxy(result.obj)).toBe(true);
    expect(result.label).toBe('after');
    expect(result.note).toBe('N'.repeat(150));
    expect(await result.obj.hello()).toBe('hi');
  });

  test('an error followed by more keys keeps its name and message', async () => {
    const { client } = await serverAndClient({ api: new Api() });
    const result = (await client.get<Api>('api').errorBesideText()) as { error: RemoteError; label: string };
    expect(result.error).toBeInstanceOf(RemoteError);
    expect(result.error.remoteName).toBe('TypeError');
    expect(result.error.message).toBe('TypeError: boom');
    expect(result.label).toBe('after');
  });

  test('codec: errors, references, Maps and Sets inside messages with strings of every length class', () => {
    const codec = new Codec();
    const reference = new RemoteReference('owner-1', 3, 'unix:///tmp/x.sock', false, 'Thing');
    for (const length of [0, 5, 31, 32, 150, 255, 256, 70_000]) {
      const text = 'é'.repeat(length >> 1) + 'a'.repeat(length - (length >> 1));
      const value = {
        a: text,
        error: new RangeError(`bad ${text.slice(0, 10)}`),
        b: text,
        ref: reference,
        c: [text, new Map<unknown, unknown>([[text, new Set([text, 'k'])]]), text],
      };
      const out = codec.decode(codec.encode(value)) as typeof value & { error: RemoteError };
      expect(out.a).toBe(text);
      expect(out.b).toBe(text);
      expect(out.error.remoteName).toBe('RangeError');
      expect(out.error.message).toBe(`RangeError: bad ${text.slice(0, 10)}`);
      expect(out.ref).toEqual(reference);
      expect(out.c[0]).toBe(text);
      expect(out.c[1]).toEqual(new Map([[text, new Set([text, 'k'])]]));
      expect(out.c[2]).toBe(text);
    }
  });
});

describe('numbers and dates', () => {
  // (A Set or a Map key cannot hold -0: they store it as +0.)
  test('-0 arrives as -0, at the top, in arrays, objects and Map values', () => {
    const codec = new Codec();
    expect(Object.is(codec.decode(codec.encode(-0)), -0)).toBe(true);
    const out = codec.decode(codec.encode({ a: [-0, 0], o: { z: -0 }, m: new Map([[1, -0]]) })) as {
      a: number[];
      o: { z: number };
      m: Map<number, number>;
    };
    expect(Object.is(out.a[0], -0)).toBe(true);
    expect(Object.is(out.a[1], 0)).toBe(true);
    expect(Object.is([...out.m.values()][0], -0)).toBe(true);
    expect(Object.is(out.o.z, -0)).toBe(true);
  });

  test('-0 arrives as -0 through an rpc call', async () => {
    const { client } = await serverAndClient({ api: new Api() });
    expect(Object.is(await client.get<Api>('api').echo(-0), -0)).toBe(true);
  });

  test('an invalid Date arrives invalid, at the top and inside a Map', () => {
    const codec = new Codec();
    expect(Number.isNaN((codec.decode(codec.encode(new Date(Number.NaN))) as Date).getTime())).toBe(true);
    const map = codec.decode(codec.encode(new Map([[1, new Date(Number.NaN)]]))) as Map<number, Date>;
    expect(Number.isNaN(map.get(1)?.getTime())).toBe(true);
  });
});

describe('binaries carry exactly their own bytes', () => {
  test('a 4-byte Buffer from the shared pool is sent as 4 bytes, and arrives in memory of its own', async () => {
    const { client } = await serverAndClient({ api: new Api() });
    const tiny = (await client.get<Api>('api').tiny()) as Buffer;
    expect(tiny.toString()).toBe('tiny');
    expect(tiny.buffer.byteLength).toBe(4);
    const slice = (await client.get<Api>('api').slice()) as Buffer;
    expect(slice.byteLength).toBe(4);
    expect(slice.buffer.byteLength).toBe(4);
  });

  test('encoding a view sends only the bytes of the view, for every binary kind and size', () => {
    const codec = new Codec();
    for (const size of [4, 1000, 70_000]) {
      const parent = new ArrayBuffer(size + 64);
      new Uint8Array(parent).fill(0xee);
      const views: ArrayBufferView[] = [
        Buffer.from(parent, 16, size),
        new Uint8Array(parent, 16, size),
        new DataView(parent, 16, size),
        new Float64Array(parent, 16, size / 4 / 2),
        new Int16Array(parent, 16, size / 2),
      ];
      for (const view of views) {
        const bytes = codec.encode(view);
        // The header takes at most 8 bytes: nothing of the parent beyond the view travels.
        expect(bytes.byteLength).toBeLessThanOrEqual(view.byteLength + 8);
      }
      expect(codec.encode(parent.slice(16, 16 + size)).byteLength).toBeLessThanOrEqual(size + 8);
    }
    expect(codec.encode(Buffer.from('tiny')).byteLength).toBe(6);
  });

  test('small decoded binaries and typed arrays never show the received frame through .buffer', () => {
    const codec = new Codec();
    const message = codec.encode({
      b: Buffer.from('abcd'),
      f: new Float64Array([1, 2]),
      s: new Set([Buffer.from('xy')]),
    });
    // As a received chunk holds it: between other frames' bytes.
    const chunk = Buffer.concat([Buffer.alloc(100, 1), message, Buffer.alloc(100, 2)]);
    const out = codec.decode(chunk.subarray(100, 100 + message.length)) as {
      b: Buffer;
      f: Float64Array;
      s: Set<Buffer>;
    };
    expect(out.b.buffer.byteLength).toBe(4);
    expect(out.f.buffer.byteLength).toBe(16);
    expect([...out.s][0].buffer.byteLength).toBe(2);
    expect(Buffer.isBuffer(out.b)).toBe(true);
  });

  test('large decoded binaries are views of their own message only, small ones beside them copies', () => {
    const codec = new Codec();
    const big = new Float64Array(10_000).fill(3);
    const bin = Buffer.alloc(70_000, 7);
    const message = codec.encode({ big, bin, small: Buffer.from('ab') });
    const chunk = Buffer.concat([Buffer.alloc(100, 1), message, Buffer.alloc(100, 2)]);
    const out = codec.decode(chunk.subarray(100, 100 + message.length)) as {
      big: Float64Array;
      bin: Buffer;
      small: Buffer;
    };
    expect(out.big[9_999]).toBe(3);
    expect(out.bin.equals(bin)).toBe(true);
    for (const view of [out.big, out.bin]) expect(view.buffer.byteLength).toBe(message.length);
    expect(out.small.buffer.byteLength).toBe(2); // small ones are copied, also beside a large one
  });
});
