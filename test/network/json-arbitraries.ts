// fast-check generators of JSON-like values for the property tests of the peers' fast paths: numbers a
// Python peer and a JavaScript caller both send, strings with what JSON escapes, and values built of them.
import fc from 'fast-check';

/** Integers, floats, big and tiny ones, -0, and the non-finite ones (Python's bare NaN and Infinity). */
export const anyNumber = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.constantFrom(0, -0, 1e21, 1e-7, 2 ** 53, -(2 ** 53) - 2, 1.7976931348623157e308, 5e-324),
  fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY),
);

/**
 * Strings with the characters JSON escapes, quotes, backslashes, non-ASCII text and lone surrogates, and
 * the `extra` texts given.
 */
export function anyStringWith(...extra: string[]): fc.Arbitrary<string> {
  return fc.oneof(
    fc.string({ unit: 'grapheme' }),
    fc.string({
      unit: fc.constantFrom(
        '"',
        '\\',
        '\n',
        '\r',
        '\t',
        '\u0000',
        '\u001f',
        'é',
        '\u2028',
        '\ud800',
        'a',
        ',',
      ),
    }),
    fc.constantFrom(...extra),
  );
}

/** Scalars, lists and objects (keys from `strings`, and the awkward `__proto__`, `uid`, `result`). */
export function jsonValueOf(strings: fc.Arbitrary<string>): fc.Arbitrary<unknown> {
  const primitive = fc.oneof(anyNumber, strings, fc.boolean(), fc.constant(null));
  return fc.letrec((tie) => ({
    value: fc.oneof({ depthSize: 'small' }, primitive, tie('list'), tie('object')),
    list: fc.array(tie('value'), { maxLength: 5 }),
    object: fc.dictionary(fc.oneof(strings, fc.constantFrom('__proto__', 'uid', 'result')), tie('value'), {
      maxKeys: 4,
    }),
  })).value;
}
