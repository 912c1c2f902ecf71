// The Manager's fast-path scanner (issue 11 §2): for every line it accepts, its routing members are what
// JSON.parse makes of them; it never accepts a line JSON.parse refuses; it declines (undefined: parse in
// full) only what it is documented to decline. Property tests over random JSON objects written in random
// ways (whitespace, member order, duplicate keys, escapes, number forms), and over mutations of them.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { JsonDepthError } from '../../src/errors.js';
import { COMMON_LINE_LIMIT, matchCommonLine } from '../../src/network/manager/common-lines.js';
import {
  type JsonKind,
  type RoutingFields,
  scanRoutingFields,
} from '../../src/network/manager/routing-fields.js';
import { JSON_DEPTH_LIMIT, parseJson } from '../../src/network/protocol/json.js';

const ROUTING_KEYS = [
  'service',
  'uid',
  'requester',
  'attribute',
  'args',
  'kwargs',
  'result',
  'error',
] as const;
const STRING_KEYS = new Set(['service', 'uid', 'requester', 'attribute']);

function kindOfValue(value: unknown): JsonKind {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value as JsonKind;
}

// What the scanner must report, from JSON.parse's value.
function expected(value: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of ROUTING_KEYS) {
    const has = Object.hasOwn(value, key);
    const item = has ? value[key] : undefined;
    out[`${key}Kind`] = has ? kindOfValue(item) : undefined;
    if (STRING_KEYS.has(key)) out[key] = typeof item === 'string' ? item : undefined;
    if (key === 'error') out.error = typeof item === 'boolean' ? item : undefined;
  }
  return out;
}

function reported(fields: RoutingFields): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of ROUTING_KEYS) {
    out[`${key}Kind`] = fields[`${key}Kind` as keyof RoutingFields];
    if (STRING_KEYS.has(key) || key === 'error') out[key] = fields[key as keyof RoutingFields];
  }
  return out;
}

// Compares the scanner with JSON.parse on one line of bytes. Returns what happened, for the callers'
// stronger claims.
function check(bytes: Buffer): 'accepted' | 'declined' {
  const fields = scanRoutingFields(bytes);
  let parsed: unknown;
  let parses = true;
  try {
    parsed = JSON.parse(bytes.toString('utf8'));
  } catch {
    parses = false;
  }
  if (fields === undefined) return 'declined';
  // Accepted: JSON.parse must take it, as an object, with the same routing members.
  expect(parses).toBe(true);
  expect(typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)).toBe(true);
  expect(reported(fields)).toEqual(expected(parsed as Record<string, unknown>));
  const text = bytes.toString('latin1');
  expect(text[fields.closingBrace]).toBe('}');
  expect(text.slice(fields.closingBrace + 1).trim()).toBe('');
  return 'accepted';
}

// A small deterministic random source, seeded by fast-check (so a failure has a seed to keep).
function prng(seed: number): (n: number) => number {
  let a = seed >>> 0;
  return (n) => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) % n) as number;
  };
}

const SPACES = ['', '', '', ' ', '  ', '\t', '\r', '\n', ' \r\n\t '];
const SHORT_ESCAPES: Record<string, string> = {
  '"': '\\"',
  '\\': '\\\\',
  '\b': '\\b',
  '\f': '\\f',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
  '/': '\\/',
};

function writeString(text: string, pick: (n: number) => number): string {
  let out = '"';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    const code = text.charCodeAt(i);
    const must = ch === '"' || ch === '\\' || code < 0x20;
    const style = pick(must ? 2 : 6);
    if (style === 0) out += `\\u${code.toString(16).padStart(4, '0')}`;
    else if (style === 1 && (SHORT_ESCAPES[ch] !== undefined || must)) {
      out += SHORT_ESCAPES[ch] ?? `\\u${code.toString(16).toUpperCase().padStart(4, '0')}`;
    } else if (must) out += `\\u${code.toString(16).padStart(4, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

function writeNumber(value: number, pick: (n: number) => number): string {
  const plain = JSON.stringify(value);
  if (!/^-?\d+$/.test(plain) || pick(3) === 0) return plain;
  // Other spellings JSON allows for the same kind of value.
  const forms = [
    plain,
    `${plain}.0`,
    `${plain}e0`,
    `${plain}E+1`,
    `${plain}.25e-3`,
    value === 0 ? '-0' : plain,
  ];
  return forms[pick(forms.length)];
}

function write(value: unknown, pick: (n: number) => number): string {
  const ws = () => SPACES[pick(SPACES.length)];
  if (value === null) return 'null';
  if (typeof value === 'boolean') return String(value);
  if (typeof value === 'number') return writeNumber(value, pick);
  if (typeof value === 'string') return writeString(value, pick);
  if (Array.isArray(value)) {
    if (value.length === 0) return `[${ws()}]`;
    return `[${ws()}${value.map((v) => write(v, pick)).join(`${ws()},${ws()}`)}${ws()}]`;
  }
  const entries = Object.entries(value as Record<string, unknown>);
  // Random order; sometimes a key twice, the earlier one with another value (the later one wins).
  for (let i = entries.length - 1; i > 0; i--) {
    const j = pick(i + 1);
    [entries[i], entries[j]] = [entries[j], entries[i]];
  }
  const members = entries.map(([k, v]) => `${writeString(k, pick)}${ws()}:${ws()}${write(v, pick)}`);
  if (entries.length > 0 && pick(3) === 0) {
    const [k] = entries[pick(entries.length)];
    const decoy = [1, 'decoy', null, [], {}, true][pick(6)];
    const at = members.findIndex((m) => m.startsWith(writeString(k, () => 2)));
    members.splice(Math.max(0, at), 0, `${writeString(k, pick)}${ws()}:${ws()}${write(decoy, pick)}`);
  }
  if (members.length === 0) return `{${ws()}}`;
  return `{${ws()}${members.join(`${ws()},${ws()}`)}${ws()}}`;
}

// Strings with what is hard for a scanner: quotes, backslashes, braces, control characters, non-ASCII,
// surrogate pairs and lone surrogates, and the routing keys themselves.
const trickyString = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 8 }),
  fc.string({ unit: 'binary', maxLength: 8 }),
  fc.string({
    unit: fc.constantFrom('"', '\\', '{', '}', '[', ']', ',', ':', '\u0000', '\u001f', 'é', '\ud83d', 'u'),
    maxLength: 8,
  }),
  fc.constantFrom(...ROUTING_KEYS, 'Manager', 'notification', '__disconnect__', '__proto__'),
);

const jsonValue: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.constant(null),
    fc.boolean(),
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    trickyString,
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(trickyString, tie('value'), { maxKeys: 4 }),
  ),
})).value;

// A message-like object: some routing members (of any type, strings most often) among other members.
const message = fc
  .record({
    routing: fc.dictionary(
      fc.constantFrom(...ROUTING_KEYS),
      fc.oneof({ weight: 3, arbitrary: trickyString }, { weight: 2, arbitrary: jsonValue }),
    ),
    others: fc.dictionary(trickyString, jsonValue, { maxKeys: 3 }),
  })
  .map(({ routing, others }) => ({ ...others, ...routing }));

// One edit of a line's bytes: insert, delete or replace a byte that matters to a JSON scanner.
const edit = fc.record({
  at: fc.nat(),
  kind: fc.nat(2),
  byte: fc.constantFrom(
    ...'"\\{}[],: 0-+.eEtfnu1x\t\r'.split('').map((c) => c.charCodeAt(0)),
    0x00,
    0x1f,
    0x80,
    0xc3,
    0xe2,
    0xff,
  ),
});

// The UTF-8 bytes of `text` with the edits made.
function mutated(text: string, edits: { at: number; kind: number; byte: number }[]): Buffer {
  const bytes = [...Buffer.from(text, 'utf8')];
  for (const { at, kind, byte } of edits) {
    const i = at % (bytes.length + 1);
    if (kind === 0) bytes.splice(i, 0, byte);
    else if (kind === 1) bytes.splice(i, 1);
    else bytes[Math.min(i, bytes.length - 1)] = byte;
  }
  return Buffer.from(bytes);
}

describe('scanRoutingFields', () => {
  it('reports the routing members JSON.parse finds, for random objects written in random ways', () => {
    fc.assert(
      fc.property(message, fc.integer(), (value, seed) => {
        const text = write(value, prng(seed));
        // Every such line is plain JSON: the scanner must handle it, not decline it.
        expect(check(Buffer.from(text, 'utf8'))).toBe('accepted');
      }),
      { numRuns: 3000 },
    );
  });

  it('never accepts a line JSON.parse refuses, and declines only what it documents (mutated lines)', () => {
    fc.assert(
      fc.property(
        message,
        fc.integer(),
        fc.array(edit, { minLength: 1, maxLength: 3 }),
        (value, seed, edits) => {
          const line = mutated(write(value, prng(seed)), edits);
          const outcome = check(line);
          if (outcome === 'declined') {
            // Declined: only text JSON.parse refuses or whose top level is not an object.
            let parsed: unknown;
            try {
              parsed = JSON.parse(line.toString('utf8'));
            } catch {
              return;
            }
            expect(typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)).toBe(true);
          }
        },
      ),
      { numRuns: 5000 },
    );
  });

  it('keeps the last of duplicate keys, as JSON.parse does', () => {
    const fields = scanRoutingFields(Buffer.from('{"uid": "a", "service": 1, "uid": "b", "service": "S"}'));
    expect(fields?.uid).toBe('b');
    expect(fields?.service).toBe('S');
    expect(fields?.serviceKind).toBe('string');
    const back = scanRoutingFields(Buffer.from('{"service": "S", "service": [1]}'));
    expect(back?.service).toBeUndefined();
    expect(back?.serviceKind).toBe('array');
  });

  it('reads escaped keys and values as JSON.parse does', () => {
    const line =
      '{"serv\\u0069ce": "E\\"cho\\\\", "\\u0075id": "\\ud83d\\ude00", "args": ["\\"}"], "kwargs": {"}": "{"}}';
    const fields = scanRoutingFields(Buffer.from(line));
    expect(fields?.service).toBe('E"cho\\');
    expect(fields?.uid).toBe('😀');
    expect(fields?.argsKind).toBe('array');
    expect(fields?.kwargsKind).toBe('object');
  });

  it('reads each line afresh after a line whose values had the same length (no stale repeated value)', () => {
    const values = ['Echo', 'Echo', 'Echi', 'é€', 'Echo', '', 'x'.repeat(70), 'y'.repeat(70), 'Echo'];
    for (const value of values) {
      const line = Buffer.from(
        JSON.stringify({ service: value, attribute: value, requester: value, uid: value }),
      );
      expect(scanRoutingFields(line)).toMatchObject({
        service: value,
        attribute: value,
        requester: value,
        uid: value,
      });
    }
  });

  it('declines the bare NaN, Infinity and -Infinity that only parseJson takes', () => {
    for (const token of ['NaN', 'Infinity', '-Infinity']) {
      expect(scanRoutingFields(Buffer.from(`{"args": [${token}], "service": "S"}`))).toBeUndefined();
    }
  });

  it('declines a top level that is not an object', () => {
    for (const text of ['[1]', '"x"', '1', 'null', ' [{"service": "S"}] ']) {
      expect(scanRoutingFields(Buffer.from(text))).toBeUndefined();
    }
  });

  it('declines every line JSON.parse refuses', () => {
    for (const text of [
      '{"a": 1} x',
      '{"a": 1}}',
      '{"a": 1,}',
      '{"a" 1}',
      '{a: 1}',
      '\ufeff{"a": 1}',
      '{"a": 01}',
      '{"a": -}',
      '{"a": 1.}',
      '{"a": .5}',
      '{"a": +1}',
      '{"a": 1e}',
      '{"a": "\\x"}',
      '{"a": "\\u12g4"}',
      '{"a": "tab\there"}',
      '{"a": tru}',
      '{"a": nul}',
      '{"a": [1,]}',
      '{"a": [1 2]}',
      '{"a": {"b"}}',
      '{"a": {"b": 1,}}',
      '{"a": "unclosed}',
      '{"a": "ends in a backslash\\"}',
      '',
      '{',
    ]) {
      expect({ text, fields: scanRoutingFields(Buffer.from(text, 'utf8')) }).toEqual({
        text,
        fields: undefined,
      });
      expect(() => JSON.parse(text), text).toThrow();
    }
  });

  it('takes nesting up to the depth limit and declines deeper (parseJson refuses that with its own error)', () => {
    const nested = (depth: number) =>
      `{"args": ${'['.repeat(depth - 1)}${']'.repeat(depth - 1)}, "service": "S"}`;
    expect(scanRoutingFields(Buffer.from(nested(JSON_DEPTH_LIMIT)))?.service).toBe('S');
    expect(scanRoutingFields(Buffer.from(nested(JSON_DEPTH_LIMIT + 1)))).toBeUndefined();
    expect(() => parseJson(nested(JSON_DEPTH_LIMIT + 1))).toThrow(JsonDepthError);
  });

  it('leaves invalid UTF-8 inside strings to the decoder, as line.toString() does', () => {
    const line = Buffer.concat([
      Buffer.from('{"service": "a'),
      Buffer.from([0xff, 0xc3]),
      Buffer.from('", "uid": "u"}'),
    ]);
    expect(check(line)).toBe('accepted');
    expect(scanRoutingFields(line)?.service).toBe('a\ufffd\ufffd');
    const outside = Buffer.concat([Buffer.from('{"uid": "u"'), Buffer.from([0xc3]), Buffer.from('}')]);
    expect(scanRoutingFields(outside)).toBeUndefined();
  });
});

// The two commonest lines, in the peers' member order and separators, with the given value texts.
function commonRequest(args: string, attribute: string, kw: string, service: string, uid: string): string {
  return `{"args": ${args}, "attribute": ${JSON.stringify(attribute)}, "error": false, "kwargs": ${kw}, "service": ${JSON.stringify(service)}, "uid": ${JSON.stringify(uid)}}`;
}
function commonReply(requester: string, result: string, uid: string): string {
  return `{"error": false, "requester": ${JSON.stringify(requester)}, "result": ${result}, "uid": ${JSON.stringify(uid)}}`;
}
// Strings the common path takes: printable ASCII without a quote or a backslash.
const asciiString = fc.string({
  unit: fc.constantFrom('a', 'Z', '0', ' ', ',', ':', '[', '}', '.', '-', '~', '\u007f'),
});
const valueText = fc.oneof(
  jsonValue.map((v) => JSON.stringify(v)),
  fc.tuple(jsonValue, fc.integer()).map(([v, seed]) => write(v, prng(seed))),
  fc.constantFrom('[NaN]', '{"a": Infinity}', '[1, ]', '{"a" 1}', '[', '', '"\\x"', '[1]]', '{}}', '01'),
);

// Common requests and replies made of these strings and value texts.
function commonLines(
  strings: fc.Arbitrary<string>,
  args: fc.Arbitrary<string>,
  kw: fc.Arbitrary<string>,
  result: fc.Arbitrary<string>,
): fc.Arbitrary<string> {
  return fc.oneof(
    fc.tuple(args, strings, kw, strings, strings).map((p) => commonRequest(...p)),
    fc.tuple(strings, result, strings).map((p) => commonReply(...p)),
  );
}

// The common path must say exactly what the walk says, for every line it takes.
function checkCommon(line: Buffer): 'taken' | 'declined' {
  const common = matchCommonLine(line);
  if (common === undefined) return 'declined';
  expect(common).toEqual(scanRoutingFields(line));
  return 'taken';
}

describe('matchCommonLine', () => {
  it('reports what the walk reports for any common request or reply', () => {
    const strings = fc.oneof(asciiString, trickyString);
    fc.assert(
      fc.property(commonLines(strings, valueText, valueText, valueText), (text) => {
        checkCommon(Buffer.from(text, 'utf8'));
      }),
      { numRuns: 4000 },
    );
  });

  it('takes every common line with ASCII strings and JSON values (as JSON.stringify writes them)', () => {
    const args = fc.array(jsonValue, { maxLength: 4 }).map((v) => JSON.stringify(v));
    const kw = fc.dictionary(trickyString, jsonValue, { maxKeys: 3 }).map((v) => JSON.stringify(v));
    const result = jsonValue.map((v) => JSON.stringify(v));
    fc.assert(
      fc.property(commonLines(asciiString, args, kw, result), (text) => {
        const line = Buffer.from(text, 'utf8');
        if (line.length <= COMMON_LINE_LIMIT) expect(checkCommon(line)).toBe('taken');
      }),
      { numRuns: 3000 },
    );
  });

  it('never takes a line the walk reads otherwise (mutated common lines)', () => {
    const base = commonLines(asciiString, valueText, valueText, valueText);
    fc.assert(
      fc.property(base, fc.array(edit, { minLength: 1, maxLength: 3 }), (text, edits) => {
        checkCommon(mutated(text, edits));
      }),
      { numRuns: 5000 },
    );
  });

  it('takes the lines the peers send, and declines what it documents', () => {
    const request = Buffer.from(commonRequest('[1, "a"]', 'echo', '{"k": [2]}', 'Echo', 'c1'));
    expect(checkCommon(request)).toBe('taken');
    expect(matchCommonLine(request)).toMatchObject({
      service: 'Echo',
      attribute: 'echo',
      uid: 'c1',
      closingBrace: request.length - 1,
    });
    expect(checkCommon(Buffer.from(commonReply('Client[h:1]', '{"a": [1, null]}', 'c1')))).toBe('taken');
    // Non-ASCII or escaped strings, another order, a member more, Python's NaN, a value cut short:
    for (const text of [
      commonRequest('[]', 'é', '{}', 'S', 'u'),
      commonReply('C', '1', 'u\\"'),
      '{"uid": "u", "error": false, "requester": "C", "result": 1}',
      '{"error": false, "requester": "C", "result": 1, "uid": "u", "x": 1}',
      commonReply('C', '[NaN]', 'u'),
      commonRequest('[{"k": 1, "attribute": "v"}]', 'a', '{}', 'S', 'u'),
      commonRequest('"not a list"', 'a', '{}', 'S', 'u'),
      commonRequest('[]', 'a', '[]', 'S', 'u'),
    ]) {
      expect(matchCommonLine(Buffer.from(text))).toBeUndefined();
    }
    // The walk still reads the line whose args hold the attribute key's text.
    expect(
      scanRoutingFields(Buffer.from(commonRequest('[{"k": 1, "attribute": "v"}]', 'a', '{}', 'S', 'u'))),
    ).toMatchObject({ attribute: 'a' });
    // Longer than the limit: the walk takes it.
    const long = Buffer.from(commonReply('C', JSON.stringify('x'.repeat(COMMON_LINE_LIMIT)), 'u'));
    expect(matchCommonLine(long)).toBeUndefined();
    expect(scanRoutingFields(long)?.uid).toBe('u');
  });

  it('reads lines made of the separators right (the worst cases for its patterns)', () => {
    const middles = ', "attribute": "a", "error": false, "kwargs": '.repeat(20);
    checkCommon(
      Buffer.from(
        `{"args": [${middles}], "attribute": "a", "error": false, "kwargs": {}, "service": "S", "uid": "u"}`,
      ),
    );
    checkCommon(Buffer.from(commonRequest(JSON.stringify([middles]), 'a', '{}', 'S', 'u')));
    const tails = ', "service": "a", "uid": "b'.repeat(30);
    checkCommon(Buffer.from(`{"args": [], "attribute": "a", "error": false, "kwargs": ${tails}"}`));
    const uids = ', "uid": "x'.repeat(80);
    checkCommon(Buffer.from(`{"error": false, "requester": "C", "result": ${uids}"}`));
    expect(checkCommon(Buffer.from(commonReply('C', JSON.stringify({ k: uids }), 'u')))).toBe('declined'); // over the limit
    expect(checkCommon(Buffer.from(commonReply('C', JSON.stringify({ k: uids.slice(0, 400) }), 'u')))).toBe(
      'taken',
    );
  });
});
