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
import { JsonDepthError } from '../../errors.js';

/**
 * The deepest nesting of arrays and objects {@link parseJson} accepts: 1000 levels (Python's json
 * module gives up near there too, at its recursion limit). Deeper text is refused with a
 * {@link JsonDepthError}: whoever handles a value next (a reviver, a writer, a Python peer) would
 * otherwise overflow its stack.
 */
export const JSON_DEPTH_LIMIT = 1000;
/**
 * The deepest nesting {@link stringifyJson} writes: the read limit plus room for the envelopes the
 * Manager puts around a value it read (a reply, its identity).
 */
export const JSON_WRITE_DEPTH_LIMIT = JSON_DEPTH_LIMIT + 64;

/** A value that JSON (Python flavour) can carry. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/**
 * Parses JSON text, also accepting Python's bare `NaN`, `Infinity` and `-Infinity` outside strings.
 * Throws a `SyntaxError` for anything else that is not JSON.
 *
 * The common case (no such token) costs one `JSON.parse`; only text that fails to parse is scanned.
 * Values nested deeper than {@link JSON_DEPTH_LIMIT} are refused with a {@link JsonDepthError}
 * (a `SyntaxError` is still thrown for text that is not JSON).
 *
 * @example
 * ```ts
 * const message = parseJson('{"result": [[NaN, Infinity], {}], "uid": "1"}');
 * ```
 */
export function parseJson(text: string): unknown {
  let value: unknown;
  let marker: string | undefined;
  try {
    value = JSON.parse(text);
  } catch (error) {
    if (!text.includes('NaN') && !text.includes('Infinity')) throw error;
    const rewritten = rewriteNonFiniteTokens(text);
    if (rewritten === undefined) throw error;
    value = JSON.parse(rewritten.text);
    marker = rewritten.marker;
  }
  // Nesting d needs 2d characters: short text cannot be too deep (the common case skips the walk).
  if (marker === undefined && text.length <= 2 * JSON_DEPTH_LIMIT) return value;
  return settle(value, marker);
}

// Walks a parsed value without recursion: refuses one nested deeper than the limit and, if `marker`
// is set, turns the marker strings back into NaN/Infinity/-Infinity. (JSON.parse's reviver recurses,
// so a deep value would overflow the stack there.)
function settle(value: unknown, marker: string | undefined): unknown {
  const restore = (item: unknown): unknown => {
    if (
      marker !== undefined &&
      typeof item === 'string' &&
      item.length === marker.length + 1 &&
      item.startsWith(marker)
    ) {
      const kind = item.charCodeAt(item.length - 1);
      if (kind === 78 /* N */) return Number.NaN;
      if (kind === 80 /* P */) return Number.POSITIVE_INFINITY;
      if (kind === 77 /* M */) return Number.NEGATIVE_INFINITY;
    }
    return item;
  };
  if (typeof value !== 'object' || value === null) return restore(value);
  const stack: Array<[Record<string, unknown> | unknown[], number]> = [[value as Record<string, unknown>, 1]];
  while (stack.length > 0) {
    const [container, depth] = stack.pop() as [Record<string, unknown> | unknown[], number];
    if (depth > JSON_DEPTH_LIMIT) {
      throw new JsonDepthError(
        `JSON nested more than ${JSON_DEPTH_LIMIT} levels deep is refused (the limit of farcall/network)`,
        JSON_DEPTH_LIMIT,
      );
    }
    if (Array.isArray(container)) {
      for (let i = 0; i < container.length; i++) {
        const item = container[i];
        if (typeof item === 'object' && item !== null) stack.push([item as unknown[], depth + 1]);
        else if (marker !== undefined) container[i] = restore(item);
      }
    } else {
      for (const key of Object.keys(container)) {
        const item = container[key];
        if (typeof item === 'object' && item !== null) stack.push([item as unknown[], depth + 1]);
        else if (marker !== undefined) container[key] = restore(item);
      }
    }
  }
  return value;
}

/**
 * The value of a string member of the outermost object of JSON text, found by a shallow scan that
 * needs neither valid nor shallow JSON: how the Manager still answers a message it cannot parse with
 * the message's `uid`. Linear in the text's length. `undefined` if there is no such member.
 *
 * @example
 * ```ts
 * topLevelString('{"args": [[[[NaN', 'uid'); // undefined
 * topLevelString('{"uid": "7", "args": [[["deep"]]]}', 'uid'); // '7'
 * ```
 */
export function topLevelString(text: string, name: string): string | undefined {
  let depth = 0;
  let found: string | undefined;
  // At depth 1, right after the `:` of the member called `name`.
  let atValue = false;
  const length = text.length;
  for (let i = 0; i < length; i++) {
    const c = text.charCodeAt(i);
    if (c === 32 || c === 9 || c === 10 || c === 13) continue;
    if (c === 34 /* " */) {
      const end = stringEnd(text, i);
      if (end === -1) return found;
      if (depth === 1) {
        if (atValue) {
          atValue = false;
          const parsed = parseString(text.slice(i, end + 1));
          if (parsed !== undefined) found = parsed;
        } else {
          let j = end + 1;
          while (j < length && (text[j] === ' ' || text[j] === '\t' || text[j] === '\r' || text[j] === '\n'))
            j++;
          if (text[j] === ':') {
            atValue = parseString(text.slice(i, end + 1)) === name;
            i = j;
            continue;
          }
        }
      }
      i = end;
      continue;
    }
    atValue = false;
    if (c === 123 /* { */ || c === 91 /* [ */) depth++;
    else if (c === 125 /* } */ || c === 93 /* ] */) depth--;
  }
  return found;
}

// The index of the `"` that closes the string opening at `start`, or -1.
function stringEnd(text: string, start: number): number {
  let i = start;
  for (;;) {
    i = text.indexOf('"', i + 1);
    if (i === -1) return -1;
    let backslashes = 0;
    while (text.charCodeAt(i - 1 - backslashes) === 92 /* \ */) backslashes++;
    if (backslashes % 2 === 0) return i;
  }
}

function parseString(literal: string): string | undefined {
  try {
    const value: unknown = JSON.parse(literal);
    return typeof value === 'string' ? value : undefined;
  } catch {
    return undefined;
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
 * A value nested deeper than {@link JSON_WRITE_DEPTH_LIMIT} is refused with a {@link JsonDepthError}
 * (never a stack overflow).
 *
 * @example
 * ```ts
 * stringifyJson({ result: [[1, 'two'], { x: 3.5 }], uid: 'a' });
 * // '{"result": [[1, "two"], {"x": 3.5}], "uid": "a"}'
 * ```
 */
export function stringifyJson(value: unknown): string {
  // The values a request or a reply carries most often (a number, a string, a flat list of them) are
  // written directly: no output list, no set of containers. They give the text the general writer
  // below gives (a property test holds the two together).
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
      return formatNumber(value);
    case 'boolean':
      return value ? 'true' : 'false';
  }
  if (Array.isArray(value)) {
    const flat = flatListText(value);
    if (flat !== undefined) return flat;
  }
  const out: string[] = [];
  write(value, out, new Set());
  return out.join('');
}

// A list of numbers, strings, booleans and nulls as the general writer writes it; undefined for any
// other list (one with a container, a hole, undefined, a bigint, or its own toJSON).
function flatListText(list: unknown[]): string | undefined {
  if (typeof (list as { toJSON?: unknown }).toJSON === 'function') return undefined;
  let out = '[';
  for (let i = 0; i < list.length; i++) {
    const item = list[i];
    let text: string;
    if (typeof item === 'number') text = formatNumber(item);
    else if (typeof item === 'string') text = JSON.stringify(item);
    else if (typeof item === 'boolean') text = item ? 'true' : 'false';
    else if (item === null) text = 'null';
    else return undefined;
    out += i === 0 ? text : `, ${text}`;
  }
  return `${out}]`;
}

function tooDeep(): JsonDepthError {
  return new JsonDepthError(
    `Cannot write JSON nested more than ${JSON_WRITE_DEPTH_LIMIT} levels deep (the limit of farcall/network)`,
    JSON_WRITE_DEPTH_LIMIT,
  );
}

// `seen` holds the containers being written, outermost first: its size is the depth.
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
  if (seen.size >= JSON_WRITE_DEPTH_LIMIT) throw tooDeep();
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
