import { describe, expect, it } from 'vitest';
import { encodeLine, LineDecoder, writeLine } from '../../src/wire/lines.js';

function collect(maxLineBytes?: number) {
  const lines: string[] = [];
  const oversize: number[] = [];
  const decoder = new LineDecoder({
    maxLineBytes,
    onLine: (line) => lines.push(line.toString('utf8')),
    onOversize: (bytes) => oversize.push(bytes),
  });
  return { decoder, lines, oversize };
}

describe('LineDecoder', () => {
  it('splits several lines arriving in one chunk', () => {
    const { decoder, lines } = collect();
    decoder.push(Buffer.from('a\nbb\nccc\n'));
    expect(lines).toEqual(['a', 'bb', 'ccc']);
  });

  it('strips the carriage return of \\r\\n line ends', () => {
    const { decoder, lines } = collect();
    decoder.push(Buffer.from('{"a": 1}\r\n{"b": 2}\r\n'));
    expect(lines).toEqual(['{"a": 1}', '{"b": 2}']);
  });

  it('joins a line that spans many chunks, byte by byte', () => {
    const { decoder, lines } = collect();
    const text = 'héllo wörld\r\nsecond\n';
    for (const byte of Buffer.from(text)) decoder.push(Buffer.from([byte]));
    expect(lines).toEqual(['héllo wörld', 'second']);
    expect(decoder.bufferedBytes).toBe(0);
  });

  it('keeps an unfinished line until its newline arrives', () => {
    const { decoder, lines } = collect();
    decoder.push(Buffer.from('abc'));
    expect(lines).toEqual([]);
    expect(decoder.bufferedBytes).toBe(3);
    decoder.push(Buffer.from('def\n'));
    expect(lines).toEqual(['abcdef']);
  });

  it('drops a line over the limit while buffering it and goes on with the next line', () => {
    const { decoder, lines, oversize } = collect(10);
    decoder.push(Buffer.from('ok\n'));
    for (let i = 0; i < 100; i++) {
      decoder.push(Buffer.alloc(1000, 0x41));
      expect(decoder.bufferedBytes).toBeLessThanOrEqual(10);
    }
    decoder.push(Buffer.from('tail\r\nafter\n'));
    expect(lines).toEqual(['ok', 'after']);
    expect(oversize).toEqual([100_004]);
  });

  it('drops an over-limit line that arrives whole in one chunk', () => {
    const { decoder, lines, oversize } = collect(5);
    decoder.push(Buffer.from('123456\n12345\r\n'));
    expect(lines).toEqual(['12345']);
    expect(oversize).toEqual([6]);
  });

  it('accepts a line exactly at the limit, \\r not counted', () => {
    const { decoder, lines } = collect(4);
    decoder.push(Buffer.from('abcd\r'));
    decoder.push(Buffer.from('\n'));
    expect(lines).toEqual(['abcd']);
  });

  it('delivers a final line without newline at end()', () => {
    const { decoder, lines } = collect();
    decoder.push(Buffer.from('x\nlast'));
    decoder.end();
    expect(lines).toEqual(['x', 'last']);
  });

  it('delivers empty lines', () => {
    const { decoder, lines } = collect();
    decoder.push(Buffer.from('\r\n\n'));
    expect(lines).toEqual(['', '']);
  });

  it('handles a 110 MB line in 64 KiB chunks when the limit allows', () => {
    let got = -1;
    const decoder = new LineDecoder({
      maxLineBytes: 200 * 1024 * 1024,
      onLine: (line) => (got = line.length),
    });
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    const total = 110 * 1024 * 1024;
    for (let sent = 0; sent < total; sent += chunk.length) decoder.push(chunk);
    decoder.push(Buffer.from('\r\n'));
    expect(got).toBe(total);
  });

  it('rejects a non-positive limit', () => {
    expect(() => new LineDecoder({ maxLineBytes: 0, onLine: () => {} })).toThrow(RangeError);
  });
});

describe('encodeLine / writeLine', () => {
  it('terminates a line with \\r\\n as msl-network does', () => {
    expect(encodeLine('{"a": "é"}').toString('utf8')).toBe('{"a": "é"}\r\n');
    const written: unknown[] = [];
    writeLine({ write: (data) => written.push(data) > 0 }, 'x');
    expect(written).toEqual(['x\r\n']);
  });
});

describe('LineDecoder samples of dropped lines', () => {
  it('keeps the start and the end of a dropped line, so a receiver can still find its id', () => {
    const samples: { bytes: number; head: string; tail: string }[] = [];
    const decoder = new LineDecoder({
      maxLineBytes: 100,
      sampleBytes: 16,
      onLine: () => {},
      onOversize: (bytes, sample) =>
        samples.push({ bytes, head: sample?.head.toString() ?? '', tail: sample?.tail.toString() ?? '' }),
    });
    decoder.push(Buffer.from('{"args": ["'));
    for (let i = 0; i < 10; i++) decoder.push(Buffer.alloc(50, 0x78));
    decoder.push(
      Buffer.from(`"], "uid": "abc"}\r\n{"whole": "line over the limit in one chunk ${'.'.repeat(200)}"}\n`),
    );
    expect(samples[0]).toEqual({ bytes: 11 + 500 + 17, head: '{"args": ["xxxxx', tail: '], "uid": "abc"}' });
    expect(samples[1].head).toBe('{"whole": "line ');
    expect(samples[1].tail).toBe('.............."}');
  });

  it('applies a changed limit to the next lines', () => {
    const { decoder, lines, oversize } = collect(1000);
    decoder.push(Buffer.from('0123456789\n'));
    decoder.maxLineBytes = 5;
    decoder.push(Buffer.from('0123456789\nabc\n'));
    expect(lines).toEqual(['0123456789', 'abc']);
    expect(oversize).toEqual([10]);
    expect(() => {
      decoder.maxLineBytes = 0;
    }).toThrow(RangeError);
  });
});
