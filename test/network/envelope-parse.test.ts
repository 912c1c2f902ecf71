// The peers' envelope fast path (issue 11 §2): for every line it takes, it gives what parseJson gives,
// member for member and in the same order; it takes the common reply and request; it declines the rest.
// Property tests over random replies and requests (any strings, any values, Python's NaN) and over
// random mutations of them.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseEnvelope } from '../../src/network/peers/envelope-parse.js';
import { JSON_DEPTH_LIMIT, parseJson, stringifyJson } from '../../src/network/protocol/json.js';
import { anyNumber, anyStringWith, jsonValueOf } from './json-arbitraries.js';

// Strings with what JSON escapes and the text of the envelope's own separators.
const anyString = anyStringWith(
  ', "uid": "',
  '"}',
  ', "service": "',
  ', "attribute": "',
  '", "requester": "',
);
const plainString = fc.string({
  unit: fc.constantFrom('a', 'Z', '0', ' ', ',', ':', '[', ']', '{', '}', 'é', '€', '😀', '.', '-', '_'),
});
const jsonish = jsonValueOf(anyString);
// Number texts by JSON's grammar (and a few that break it), as a peer may write them.
const numberText = fc
  .tuple(
    fc.constantFrom('', '-', '+'),
    fc.constantFrom('0', '7', '10', '123456789012345678901234567890', '01', ''),
    fc.constantFrom('', '.5', '.0', '.', '.25e'),
    fc.constantFrom('', 'e5', 'E+2', 'e-400', 'e400', 'e', 'e+'),
  )
  .map((parts) => parts.join(''));
// A list argument: values of any kind, or one number (the fast path's own case).
const argsValue = fc.oneof(
  fc.array(jsonish, { maxLength: 4 }),
  anyNumber.map((n) => [n]),
);
const kwargsValue = fc.oneof(fc.constant({}), fc.dictionary(anyString, jsonish, { maxKeys: 3 }));

function replyLine(requester: string, resultText: string, uid: string): string {
  return `{"error": false, "requester": ${JSON.stringify(requester)}, "result": ${resultText}, "uid": ${JSON.stringify(uid)}}`;
}

function requestLine(
  argsText: string,
  attribute: string,
  kwargsText: string,
  service: string,
  uid: string,
  requester: string,
): string {
  return (
    `{"args": ${argsText}, "attribute": ${JSON.stringify(attribute)}, "error": false, "kwargs": ${kwargsText}, ` +
    `"service": ${JSON.stringify(service)}, "uid": ${JSON.stringify(uid)}, "requester": ${JSON.stringify(requester)}}`
  );
}

// Compares the fast path with parseJson on one line: whatever it takes, it must give exactly.
function check(line: string): 'taken' | 'declined' {
  const fast = parseEnvelope(line);
  if (fast === undefined) return 'declined';
  let full: unknown;
  expect(() => {
    full = parseJson(line);
  }).not.toThrow();
  expect(fast).toEqual(full);
  expect(Object.keys(fast)).toEqual(Object.keys(full as object));
  return 'taken';
}

// Whether a string is written as it is (nothing escaped: no quote, backslash, control character or lone
// surrogate), as the fast path takes it.
function plain(text: string): boolean {
  return JSON.stringify(text) === `"${text}"`;
}

// Whether stringifyJson writes the value with Python's bare NaN/Infinity (which only the full parse takes).
function hasNonFinite(value: unknown): boolean {
  if (typeof value === 'number') return !Number.isFinite(value);
  if (Array.isArray(value)) return value.some(hasNonFinite);
  if (typeof value === 'object' && value !== null) return Object.values(value).some(hasNonFinite);
  return false;
}

describe('parseEnvelope', () => {
  it('gives what parseJson gives for any reply, and takes every reply with plain strings', () => {
    fc.assert(
      fc.property(
        fc.oneof(anyString, plainString),
        jsonish,
        fc.oneof(anyString, plainString),
        (requester, result, uid) => {
          const line = replyLine(requester, stringifyJson(result), uid);
          const outcome = check(line);
          if (
            plain(requester) &&
            plain(uid) &&
            !hasNonFinite(result) &&
            line.length <= 2 * JSON_DEPTH_LIMIT
          ) {
            expect(outcome).toBe('taken');
          }
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('gives what parseJson gives for any request, and takes every request with plain strings', () => {
    fc.assert(
      fc.property(
        argsValue,
        fc.oneof(anyString, plainString),
        kwargsValue,
        fc.oneof(anyString, plainString),
        plainString,
        fc.oneof(anyString, plainString),
        (args, attribute, kw, service, uid, requester) => {
          const line = requestLine(
            stringifyJson(args),
            attribute,
            stringifyJson(kw),
            service,
            uid,
            requester,
          );
          const outcome = check(line);
          const argsText = stringifyJson(args);
          if (
            [attribute, service, uid, requester].every(plain) &&
            !hasNonFinite(args) &&
            !hasNonFinite(kw) &&
            !argsText.includes(', "attribute": "') &&
            line.length <= 2 * JSON_DEPTH_LIMIT
          ) {
            expect(outcome).toBe('taken');
          }
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('reads number texts as JSON.parse does, and leaves the ones JSON refuses to the full parse', () => {
    fc.assert(
      fc.property(numberText, fc.boolean(), (text, inList) => {
        const value = inList ? `[${text}]` : text;
        check(replyLine('C[h:1]', value, 'u1'));
        check(requestLine(`[${text}]`, 'set', '{}', 'S', 'u1', 'C[h:1]'));
      }),
      { numRuns: 2000 },
    );
    for (const text of ['-0', '-0.0', '1e400', '-1e400', '5e-324', '123456789012345678901234567890', '0.1']) {
      expect(check(replyLine('C', text, 'u'))).toBe('taken');
      expect(Object.is(parseEnvelope(replyLine('C', text, 'u'))?.result, JSON.parse(text))).toBe(true);
    }
    for (const text of ['01', '+1', '1.', '.5', '1e', 'NaN', '-Infinity']) {
      expect(parseEnvelope(replyLine('C', text, 'u'))).toBeUndefined();
    }
  });

  it('never takes a line parseJson refuses or reads otherwise (mutated lines)', () => {
    const alphabet = '"\\{}[],: 0-+.eE\tnul'.split('');
    const base = fc.oneof(
      fc.tuple(plainString, jsonish, plainString).map(([r, v, u]) => replyLine(r, stringifyJson(v), u)),
      fc
        .tuple(argsValue, plainString, kwargsValue, plainString, plainString, plainString)
        .map(([a, at, kw, s, u, r]) => requestLine(stringifyJson(a), at, stringifyJson(kw), s, u, r)),
    );
    const mutation = fc.tuple(
      fc.nat(),
      fc.constantFrom('insert', 'delete', 'replace'),
      fc.constantFrom(...alphabet),
    );
    fc.assert(
      fc.property(base, fc.array(mutation, { minLength: 1, maxLength: 4 }), (line, mutations) => {
        let text = line;
        for (const [at, kind, c] of mutations) {
          const i = at % (text.length + 1);
          if (kind === 'insert') text = text.slice(0, i) + c + text.slice(i);
          else if (kind === 'delete') text = text.slice(0, i) + text.slice(i + 1);
          else text = text.slice(0, i) + c + text.slice(i + 1);
        }
        check(text);
      }),
      { numRuns: 5000 },
    );
  });

  it('declines what it is documented to decline', () => {
    // Another member order, an escape in a string, a member more, Python's NaN.
    expect(parseEnvelope('{"uid": "u", "error": false, "requester": "C", "result": 1}')).toBeUndefined();
    expect(parseEnvelope(replyLine('C', '1', 'u\\"1'))).toBeUndefined();
    expect(parseEnvelope(replyLine('C\u0001', '1', 'u'))).toBeUndefined();
    expect(
      parseEnvelope('{"error": false, "requester": "C", "result": 1, "uid": "u", "x": 1}'),
    ).toBeUndefined();
    expect(parseEnvelope(replyLine('C', '[NaN]', 'u'))).toBeUndefined();
    expect(parseEnvelope(requestLine('[Infinity]', 'a', '{}', 'S', 'u', 'C'))).toBeUndefined();
    // The args hold the attribute key's text: cut there they are not JSON, so the full parse reads it.
    const nested = requestLine('[{"k": 1, "attribute": "v"}]', 'echo', '{}', 'S', 'u', 'C');
    expect(parseEnvelope(nested)).toBeUndefined();
    expect(parseJson(nested)).toMatchObject({ attribute: 'echo', args: [{ k: 1, attribute: 'v' }] });
    // Too long to skip the depth check: the full parse takes it.
    const long = replyLine('C', stringifyJson('x'.repeat(2 * JSON_DEPTH_LIMIT)), 'u');
    expect(parseEnvelope(long)).toBeUndefined();
    expect(parseJson(long)).toMatchObject({ uid: 'u' });
  });

  it('reads lines full of the separators right (the worst cases for its patterns)', () => {
    const uidSeparators = ', "uid": "x'.repeat(150);
    check(replyLine('C', stringifyJson(uidSeparators), 'u'));
    check(`{"error": false, "requester": "C", "result": ${uidSeparators}"}`);
    const tail = ', "service": "a", "uid": "b", "requester": "c'.repeat(20);
    check(`{"args": [], "attribute": "a", "error": false, "kwargs": ${tail}"}`);
    check(requestLine('[]', 'a', stringifyJson({ k: tail }), 'S', 'u', 'C'));
    const attributes = ', "attribute": "a", "error": false, "kwargs": '.repeat(40);
    check(
      `{"args": [${attributes}], "attribute": "a", "error": false, "kwargs": {}, "service": "S", "uid": "u", "requester": "C"}`,
    );
    expect(check(requestLine('[1]', 'a', stringifyJson({ k: tail }), 'S', 'u', 'C'))).toBe('taken');
  });
});
