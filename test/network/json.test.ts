import { describe, expect, it } from 'vitest';
import { JsonDepthError } from '../../src/errors.js';
import {
  JSON_WRITE_DEPTH_LIMIT,
  parseJson,
  stringifyJson,
  topLevelString,
} from '../../src/network/protocol/json.js';

describe('parseJson', () => {
  it('parses plain JSON', () => {
    expect(parseJson('{"a": [1, "two", null, true]}')).toEqual({ a: [1, 'two', null, true] });
  });

  it('parses the bare NaN, Infinity and -Infinity tokens Python writes', () => {
    const value = parseJson('{"args": [NaN, Infinity, -Infinity, 1.5], "kwargs": {"x": NaN}}') as {
      args: number[];
      kwargs: { x: number };
    };
    expect(value.args[0]).toBeNaN();
    expect(value.args.slice(1)).toEqual([Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 1.5]);
    expect(value.kwargs.x).toBeNaN();
  });

  it('leaves the words NaN and Infinity inside strings alone', () => {
    expect(parseJson('["NaN", "say \\"Infinity\\"", NaN]')).toEqual(['NaN', 'say "Infinity"', Number.NaN]);
  });

  it('still rejects text that is not JSON', () => {
    expect(() => parseJson('garbage')).toThrow(SyntaxError);
    expect(() => parseJson('[NaN, oops]')).toThrow(SyntaxError);
    expect(() => parseJson('{"a": 1')).toThrow(SyntaxError);
  });
});

describe('stringifyJson', () => {
  it('writes the separators of Python json.dumps, byte for byte as in the captures', () => {
    const line =
      '{"error": false, "requester": "CapClient[vm:40170]", "result": [[1, "two"], {"x": 3.5}], "uid": "e025dd8e-16e3-45ad-b438-6b549683108a"}';
    expect(stringifyJson(parseJson(line))).toBe(line);
  });

  it('writes NaN and Infinity bare, as Python does', () => {
    const line = '{"args": [NaN, Infinity, -Infinity], "kwargs": {}}';
    expect(
      stringifyJson({ args: [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY], kwargs: {} }),
    ).toBe(line);
    expect(stringifyJson(parseJson(line))).toBe(line);
  });

  it('keeps non-ASCII text unescaped (ensure_ascii=False) and escapes control characters', () => {
    expect(stringifyJson({ s: 'µ°\n"' })).toBe('{"s": "µ°\\n\\""}');
  });

  it('leaves out undefined members and writes nested empty containers', () => {
    expect(stringifyJson({ a: undefined, b: [], c: {} })).toBe('{"b": [], "c": {}}');
  });

  it('refuses circular structures', () => {
    const a: Record<string, unknown> = {};
    a.self = a;
    expect(() => stringifyJson(a)).toThrow(TypeError);
  });
});

describe('nesting limits', () => {
  const deep = (depth: number, inner = '1') => `${'['.repeat(depth)}${inner}${']'.repeat(depth)}`;

  it('reads 1000 levels and refuses 1001, with or without NaN, with a typed error', () => {
    expect(() => parseJson(deep(1000))).not.toThrow();
    expect(() => parseJson(deep(1000, 'NaN'))).not.toThrow();
    for (const inner of ['1', 'NaN']) {
      expect(() => parseJson(deep(1001, inner))).toThrow(JsonDepthError);
      expect(() => parseJson(deep(100_000, inner))).toThrow(JsonDepthError);
    }
    expect(parseJson(`{"a": ${deep(999, 'NaN')}}`)).toBeTypeOf('object');
  });

  it('writes without recursing past its limit: a typed error, never a stack overflow', () => {
    let value: unknown = 1;
    for (let i = 0; i < 100_000; i++) value = [value];
    expect(() => stringifyJson(value)).toThrow(JsonDepthError);
    let ok: unknown = 1;
    for (let i = 0; i < JSON_WRITE_DEPTH_LIMIT; i++) ok = { a: ok };
    expect(stringifyJson(ok).length).toBeGreaterThan(JSON_WRITE_DEPTH_LIMIT);
  });

  it('finds a string member of the outermost object in text that is too deep or not JSON', () => {
    expect(topLevelString(`{"args": [${deep(100_000)}], "uid": "7"}`, 'uid')).toBe('7');
    expect(topLevelString('{"uid": "a\\"b", "args": [[{"uid": "inner"}]]', 'uid')).toBe('a"b');
    expect(topLevelString('{"x": {"uid": "inner"}, "y": "uid"}', 'uid')).toBeUndefined();
    expect(topLevelString('{"uid": 5}', 'uid')).toBeUndefined();
    expect(topLevelString('not json', 'uid')).toBeUndefined();
  });
});
