// The fast paths of the Client's and the Service's hot loop against the general code they stand in for:
// each must give exactly what the general path gives, for any input.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LineReader } from '../../src/network/peers/line-reader.js';
import { stringifyJson } from '../../src/network/protocol/json.js';
import { LineDecoder } from '../../src/wire/lines.js';
import { anyNumber, anyStringWith, jsonValueOf } from './json-arbitraries.js';

const anyString = anyStringWith('__proto__', 'constructor', 'NaN', 'Infinity', ', "uid": "', '"}');
const primitive = fc.oneof(anyNumber, anyString, fc.boolean(), fc.constant(null));
const jsonish = jsonValueOf(anyString);

// The general writer: a value one level down in an object never takes stringifyJson's top-level fast
// paths.
function generalText(value: unknown): string {
  const text = stringifyJson({ k: value });
  return text.slice('{"k": '.length, -1);
}

describe('stringifyJson fast paths', () => {
  it('write numbers, strings, booleans and flat lists as the general writer does', () => {
    fc.assert(
      fc.property(fc.oneof(primitive, fc.array(primitive, { maxLength: 8 })), (value) => {
        expect(stringifyJson(value)).toBe(generalText(value));
      }),
      { numRuns: 3000 },
    );
  });

  it('leave every other value to the general writer', () => {
    fc.assert(
      fc.property(jsonish, (value) => {
        expect(stringifyJson(value)).toBe(generalText(value));
      }),
      { numRuns: 2000 },
    );
    const sparse: unknown[] = [1];
    sparse[2] = 3; // a hole at 1: null, as JSON.stringify writes it
    expect(stringifyJson(sparse)).toBe('[1, null, 3]');
    expect(stringifyJson([1, undefined, 2n])).toBe('[1, null, 2]');
    const own = Object.assign([1, 2], { toJSON: () => 'mine' });
    expect(stringifyJson(own)).toBe('"mine"');
    expect(stringifyJson([-0, Number.NaN, 'a"b'])).toBe('[-0.0, NaN, "a\\"b"]');
  });
});

// Bytes of JSON-like lines: ASCII, multi-byte UTF-8, malformed UTF-8, carriage returns and newlines.
const byteAlphabet = fc.constantFrom(
  [0x0a],
  [0x0d],
  [0x0d, 0x0a],
  [0x7b],
  [0x22],
  [0x61],
  [0x20],
  [0xc3, 0xa9],
  [0xe2, 0x82, 0xac],
  [0xf0, 0x9f, 0x98, 0x80],
  [0xc3],
  [0xe2, 0x82],
  [0xff],
  [0x80],
);
const stream = fc
  .tuple(
    fc.array(byteAlphabet, { maxLength: 300 }).map((parts) => Buffer.from(parts.flat())),
    fc.array(fc.nat(), { maxLength: 12 }),
    fc.integer({ min: 1, max: 40 }),
  )
  .map(([bytes, cuts, limit]) => {
    const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
    const chunks: Buffer[] = [];
    let last = 0;
    for (const point of [...points, bytes.length]) {
      if (point > last) chunks.push(bytes.subarray(last, point));
      last = point;
    }
    return { chunks, limit };
  });

type LineEvent = ['text', string] | ['oversize', number];

describe('LineReader', () => {
  it('delivers the lines and oversize drops a LineDecoder delivers, however the bytes are cut', () => {
    fc.assert(
      fc.property(stream, fc.boolean(), ({ chunks, limit }, endStream) => {
        const expected: LineEvent[] = [];
        const decoder = new LineDecoder({
          maxLineBytes: limit,
          onLine: (line) => {
            if (line.length > 0) expected.push(['text', line.toString('utf8')]);
          },
          onOversize: (bytes) => expected.push(['oversize', bytes]),
        });
        const got: LineEvent[] = [];
        const reader = new LineReader({
          maxLineBytes: limit,
          onText: (text) => got.push(['text', text]),
          onOversize: (bytes) => got.push(['oversize', bytes]),
        });
        for (const chunk of chunks) {
          decoder.push(chunk);
          reader.push(chunk);
        }
        if (endStream) {
          decoder.end();
          reader.end();
        }
        expect(got).toEqual(expected);
      }),
      { numRuns: 3000 },
    );
  });

  it('cuts the lines of one chunk from one decoded string', () => {
    const got: string[] = [];
    const reader = new LineReader({ maxLineBytes: 100, onText: (t) => got.push(t), onOversize: () => {} });
    reader.push(Buffer.from('{"a": 1}\r\n\r\n{"b": "é"}\n{"c"'));
    reader.push(Buffer.from(': 3}\r\n'));
    expect(got).toEqual(['{"a": 1}', '{"b": "é"}', '{"c": 3}']);
  });
});
