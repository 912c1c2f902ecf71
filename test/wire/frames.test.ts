import { describe, expect, it } from 'vitest';
import { ProtocolError } from '../../src/errors.js';
import { encodeFrameHeader, FrameDecoder } from '../../src/wire/frames.js';

function frame(body: string): Buffer {
  const bytes = Buffer.from(body);
  return Buffer.concat([encodeFrameHeader(bytes.length), bytes]);
}

describe('FrameDecoder', () => {
  it('returns each frame of a chunk that holds several', () => {
    const decoder = new FrameDecoder();
    const bodies = decoder.push(Buffer.concat([frame('one'), frame('two'), frame('three')]));
    expect(bodies.map(String)).toEqual(['one', 'two', 'three']);
    expect(decoder.idle).toBe(true);
  });

  it('reassembles a frame split at every byte, header included', () => {
    const decoder = new FrameDecoder();
    const bytes = Buffer.concat([frame('hello world'), frame('!')]);
    const bodies: string[] = [];
    for (const byte of bytes) bodies.push(...decoder.push(Buffer.from([byte])).map(String));
    expect(bodies).toEqual(['hello world', '!']);
  });

  it('returns a body inside one chunk as a view of that chunk, without copying', () => {
    const decoder = new FrameDecoder();
    const chunk = frame('zero-copy');
    const [body] = decoder.push(chunk);
    expect(body.buffer).toBe(chunk.buffer);
  });

  it('accepts an empty frame', () => {
    const decoder = new FrameDecoder();
    expect(decoder.push(encodeFrameHeader(0)).map((b) => b.length)).toEqual([0]);
  });

  it('rejects a frame over the limit from its header, before buffering the body', () => {
    const decoder = new FrameDecoder(100);
    const error = (() => {
      try {
        decoder.push(encodeFrameHeader(101));
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(ProtocolError);
    expect((error as ProtocolError).code).toBe('ERR_FARCALL_FRAME_TOO_LARGE');
    expect((error as ProtocolError).message).toMatch(/101 bytes exceeds the limit of 100 bytes/);
    expect(decoder.bufferedBytes).toBe(0);
  });

  it('stays failed after an oversized frame', () => {
    const decoder = new FrameDecoder(10);
    expect(() => decoder.push(encodeFrameHeader(11))).toThrow(ProtocolError);
    expect(() => decoder.push(frame('ok'))).toThrow(ProtocolError);
  });

  it('keeps only the received bytes of a partial frame buffered', () => {
    const decoder = new FrameDecoder();
    decoder.push(Buffer.concat([encodeFrameHeader(1000), Buffer.alloc(10)]));
    expect(decoder.bufferedBytes).toBe(10);
    expect(decoder.idle).toBe(false);
  });

  it('decodes 10 000 frames split across odd chunk sizes in linear time', () => {
    const decoder = new FrameDecoder();
    const all = Buffer.concat(Array.from({ length: 10_000 }, (_, i) => frame(`message ${i}`)));
    const bodies: Buffer[] = [];
    for (let offset = 0; offset < all.length; offset += 7)
      bodies.push(...decoder.push(all.subarray(offset, offset + 7)));
    expect(bodies.length).toBe(10_000);
    expect(String(bodies[9_999])).toBe('message 9999');
  });
  it('reassembles a large body that spans many chunks, and goes on with the next frame', () => {
    const decoder = new FrameDecoder();
    const big = Buffer.alloc(300_000);
    for (let i = 0; i < big.length; i++) big[i] = (i * 31) & 0xff;
    const bytes = Buffer.concat([frame('before'), encodeFrameHeader(big.length), big, frame('after')]);
    const bodies: Buffer[] = [];
    for (let offset = 0; offset < bytes.length; offset += 65_536) {
      bodies.push(...decoder.push(bytes.subarray(offset, offset + 65_536)));
      if (bodies.length === 1)
        expect(decoder.bufferedBytes).toBe(Math.min(offset + 65_536, bytes.length) - 14);
    }
    expect(bodies.map((b) => b.length)).toEqual([6, big.length, 5]);
    expect(bodies[1].equals(big)).toBe(true);
    expect(String(bodies[2])).toBe('after');
    expect(decoder.idle).toBe(true);
  });

  it('reassembles large bodies split at odd offsets, their headers split too', () => {
    const decoder = new FrameDecoder();
    const big = Buffer.alloc(100_003, 9);
    const bytes = Buffer.concat([encodeFrameHeader(big.length), big, encodeFrameHeader(big.length), big]);
    const bodies: Buffer[] = [];
    for (let offset = 0; offset < bytes.length; offset += 4099)
      bodies.push(...decoder.push(bytes.subarray(offset, offset + 4099)));
    expect(bodies.length).toBe(2);
    expect(bodies.every((body) => body.equals(big))).toBe(true);
    expect(decoder.idle).toBe(true);
  });
});

describe('FrameDecoder after an oversized header', () => {
  it('still returns the frames completed before it in the same chunk, then fails', () => {
    const decoder = new FrameDecoder(10);
    const bodies = decoder.push(Buffer.concat([frame('ok'), encodeFrameHeader(11)]));
    expect(bodies.map(String)).toEqual(['ok']);
    expect(decoder.error).toBeInstanceOf(ProtocolError);
    expect(() => decoder.push(frame('x'))).toThrow(/exceeds the limit/);
  });
});
