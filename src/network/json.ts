/**
 * JSON as Python's `json` module writes it, which is what msl-network puts on the wire.
 *
 * Two differences from `JSON.parse`/`JSON.stringify` matter:
 * - Python writes the non-finite floats as the bare tokens `NaN`, `Infinity` and `-Infinity` (not valid
 *   JSON); `JSON.stringify` would write `null` and `JSON.parse` throws on them.
 * - Python's default separators are `", "` and `": "`, and msl-network passes `ensure_ascii=False`, so
 *   non-ASCII text travels as UTF-8, not as `\uXXXX` escapes.
 *
 * @example
 * ```ts
 * parseJson('{"args": [NaN, -Infinity]}'); // { args: [NaN, -Infinity] }
 * stringifyJson({ args: [Number.NaN, 1.5] }); // '{"args": [NaN, 1.5]}'
 * ```
 * @module
 */
import { randomBytes } from 'node:crypto';

/** A value that JSON (Python flavour) can carry. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/**
 * Parses JSON text, also accepting Python's bare `NaN`, `Infinity` and `-Infinity` outside strings.
 * Throws a `SyntaxError` for anything else that is not JSON.
 *
 * The common case (no such token) costs one `JSON.parse`; only text that fails to parse is scanned.
 *
 * @example
 * ```ts
 * const message = parseJson('{"result": [[NaN, Infinity], {}], "uid": "1"}');
 * ```
 */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    if (!text.includes('NaN') && !text.includes('Infinity')) throw error;
    const rewritten = rewriteNonFiniteTokens(text);
    if (rewritten === undefined) throw error;
    return JSON.parse(rewritten.text, (_key, value: unknown) => {
      if (
        typeof value === 'string' &&
        value.length === rewritten.marker.length + 1 &&
        value.startsWith(rewritten.marker)
      ) {
        const kind = value.charCodeAt(value.length - 1);
        if (kind === 78 /* N */) return Number.NaN;
        if (kind === 80 /* P */) return Number.POSITIVE_INFINITY;
        if (kind === 77 /* M */) return Number.NEGATIVE_INFINITY;
      }
      return value;
    });
  }
}

// Replaces every bare NaN/Infinity/-Infinity outside strings by a marker string that a reviver turns
// back into the number. The marker holds 16 random bytes, so no string a peer sends can be mistaken for
// it. Returns undefined if the text has no such token (then the original syntax error stands).
function rewriteNonFiniteTokens(text: string): { text: string; marker: string } | undefined {
  const marker = `\u0000farcall-nonfinite-${randomBytes(16).toString('hex')}-`;
  const parts: string[] = [];
  let last = 0;
  let found = false;
  const length = text.length;
  for (let i = 0; i < length; i++) {
    const c = text.charCodeAt(i);
    if (c === 34 /* " */) {
      // Skip the string, honouring backslash escapes.
      i++;
      while (i < length) {
        const d = text.charCodeAt(i);
        if (d === 92 /* \ */) i += 2;
        else if (d === 34) break;
        else i++;
      }
      continue;
    }
    let token: string | undefined;
    let kind = '';
    if (c === 78 /* N */ && text.startsWith('NaN', i)) {
      token = 'NaN';
      kind = 'N';
    } else if (c === 73 /* I */ && text.startsWith('Infinity', i)) {
      token = 'Infinity';
      kind = 'P';
    } else if (c === 45 /* - */ && text.startsWith('-Infinity', i)) {
      token = '-Infinity';
      kind = 'M';
    }
    if (token === undefined) continue;
    parts.push(text.slice(last, i), JSON.stringify(marker + kind));
    i += token.length - 1;
    last = i + 1;
    found = true;
  }
  if (!found) return undefined;
  parts.push(text.slice(last));
  return { text: parts.join(''), marker };
}

/**
 * Writes a value as Python's `json.dumps(value, ensure_ascii=False)` does: `", "` and `": "`
 * separators, bare `NaN`/`Infinity`/`-Infinity`, UTF-8 text unescaped. `undefined` members are left
 * out (as `JSON.stringify` does); an object with a `toJSON()` method is written as its result.
 *
 * @example
 * ```ts
 * stringifyJson({ result: [[1, 'two'], { x: 3.5 }], uid: 'a' });
 * // '{"result": [[1, "two"], {"x": 3.5}], "uid": "a"}'
 * ```
 */
export function stringifyJson(value: unknown): string {
  const out: string[] = [];
  write(value, out, new Set());
  return out.join('');
}

function write(value: unknown, out: string[], seen: Set<object>): void {
  switch (typeof value) {
    case 'string':
      out.push(JSON.stringify(value));
      return;
    case 'number':
      out.push(formatNumber(value));
      return;
    case 'boolean':
      out.push(value ? 'true' : 'false');
      return;
    case 'bigint':
      out.push(value.toString());
      return;
    case 'undefined':
    case 'function':
    case 'symbol':
      out.push('null');
      return;
  }
  if (value === null) {
    out.push('null');
    return;
  }
  const object = value as { toJSON?: () => unknown };
  if (typeof object.toJSON === 'function') {
    write(object.toJSON(), out, seen);
    return;
  }
  if (seen.has(object)) throw new TypeError('Cannot serialize a circular structure to JSON');
  seen.add(object);
  if (Array.isArray(value)) {
    out.push('[');
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out.push(', ');
      write(value[i], out, seen);
    }
    out.push(']');
  } else if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
    // Typed arrays travel as lists of numbers, like a numpy array's tolist().
    const items = Array.from(value as unknown as ArrayLike<number | bigint>);
    write(items, out, seen);
  } else if (value instanceof Map) {
    writeEntries(value.entries(), out, seen);
  } else if (value instanceof Set) {
    write([...value], out, seen);
  } else {
    writeEntries(Object.entries(value as Record<string, unknown>), out, seen);
  }
  seen.delete(object);
}

function writeEntries(entries: Iterable<[unknown, unknown]>, out: string[], seen: Set<object>): void {
  out.push('{');
  let first = true;
  for (const [key, item] of entries) {
    if (item === undefined || typeof item === 'function' || typeof item === 'symbol') continue;
    if (!first) out.push(', ');
    first = false;
    out.push(JSON.stringify(String(key)), ': ');
    write(item, out, seen);
  }
  out.push('}');
}

function formatNumber(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Number.POSITIVE_INFINITY) return 'Infinity';
  if (value === Number.NEGATIVE_INFINITY) return '-Infinity';
  return Object.is(value, -0) ? '-0.0' : String(value);
}
