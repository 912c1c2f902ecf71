/**
 * The Manager's fast path: the routing members of a message line, found by one pass over its bytes,
 * without building the message (its `args`, `kwargs` and `result` are checked but never turned into
 * values, and are forwarded as the bytes they came in).
 *
 * {@link scanRoutingFields} accepts exactly the lines that are JSON objects by `JSON.parse`'s rules and
 * reports, for each routing member (`service`, `uid`, `requester`, `attribute`, `args`, `kwargs`,
 * `result`, `error`), what `JSON.parse` would have made of it: its JSON type and, for a string, its value
 * (the last one when a key is repeated, as `JSON.parse` keeps the last). For every line it does not
 * handle it returns `undefined`, and the caller parses the line in full as before: text that is not
 * JSON, a top level that is not an object, Python's bare `NaN`/`Infinity`/`-Infinity` (which
 * `parseJson` accepts and plain JSON does not), nesting deeper than {@link JSON_DEPTH_LIMIT}.
 *
 * @example
 * ```ts
 * const fields = scanRoutingFields(Buffer.from('{"args": [[1, {"a": "}"}]], "service": "Echo", "uid": "7"}'));
 * fields?.service; // 'Echo'
 * fields?.argsKind; // 'array'
 * scanRoutingFields(Buffer.from('{"args": [NaN]}')); // undefined: parse it in full
 * ```
 * @module
 */
import { JSON_DEPTH_LIMIT } from '../protocol/json.js';

/** The type of a JSON value, as the scanner reports it for a member. */
export type JsonKind = 'string' | 'number' | 'boolean' | 'null' | 'array' | 'object';

/**
 * The routing members of one line. A `…Kind` is `undefined` when the line has no such member; a string
 * value is set only when the member is a string.
 */
export interface RoutingFields {
  service: string | undefined;
  serviceKind: JsonKind | undefined;
  uid: string | undefined;
  uidKind: JsonKind | undefined;
  requester: string | undefined;
  requesterKind: JsonKind | undefined;
  attribute: string | undefined;
  attributeKind: JsonKind | undefined;
  argsKind: JsonKind | undefined;
  kwargsKind: JsonKind | undefined;
  resultKind: JsonKind | undefined;
  /** The value of `error` when it is a boolean. */
  error: boolean | undefined;
  errorKind: JsonKind | undefined;
  /** The index of the `}` that closes the object (what follows it is whitespace). */
  closingBrace: number;
}

// Byte values.
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const MINUS = 0x2d;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;

// Scan outcome for a position: an index into the line, or this for "not handled here".
const FAIL = -1;

// The containers open inside a member's value (1 = array, 2 = object), reused by every scan: a scan
// runs to its end synchronously, so one stack serves all lines.
const ARRAY = 1;
const OBJECT = 2;
const stack = new Uint8Array(JSON_DEPTH_LIMIT);

// Which bytes are JSON whitespace (JSON.parse accepts exactly these four).
function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

function skipSpace(line: Uint8Array, i: number): number {
  while (i < line.length && isSpace(line[i])) i++;
  return i;
}

function isHexDigit(c: number): boolean {
  return (c >= ZERO && c <= NINE) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46);
}

// Set by skipString: whether the string just skipped had an escape (then its value needs decoding).
let sawEscape = false;

// `line[start]` is the opening quote: the index after the closing quote, or FAIL for a string JSON.parse
// refuses (a control character, a bad escape, no closing quote). Bytes from 0x80 up are left to the
// UTF-8 decoder, as `line.toString()` then JSON.parse leave them (invalid ones become U+FFFD, which is
// allowed in a string; they never swallow the ASCII byte that follows).
function skipString(line: Uint8Array, start: number): number {
  sawEscape = false;
  const length = line.length;
  let i = start + 1;
  while (i < length) {
    const c = line[i];
    if (c === QUOTE) return i + 1;
    if (c < 0x20) return FAIL;
    if (c === BACKSLASH) {
      sawEscape = true;
      const e = line[i + 1];
      if (e === 0x75 /* u */) {
        if (
          !isHexDigit(line[i + 2]) ||
          !isHexDigit(line[i + 3]) ||
          !isHexDigit(line[i + 4]) ||
          !isHexDigit(line[i + 5])
        )
          return FAIL;
        i += 6;
        continue;
      }
      // " \ / b f n r t
      if (
        e !== QUOTE &&
        e !== BACKSLASH &&
        e !== 0x2f &&
        e !== 0x62 &&
        e !== 0x66 &&
        e !== 0x6e &&
        e !== 0x72 &&
        e !== 0x74
      )
        return FAIL;
      i += 2;
      continue;
    }
    i++;
  }
  return FAIL;
}

// Buffer's own UTF-8 decoder of a range, without toString()'s argument handling (a quarter of the cost
// for the short strings routing reads); toString where a runtime lacks it.
type SliceDecoder = { utf8Slice?: (start: number, end: number) => string };
const hasUtf8Slice = typeof (Buffer.prototype as SliceDecoder).utf8Slice === 'function';
function utf8(line: Buffer, start: number, end: number): string {
  if (hasUtf8Slice) return (line as SliceDecoder as Required<SliceDecoder>).utf8Slice(start, end);
  return line.toString('utf8', start, end);
}

// The value of the string literal line[start, end) (quotes included), as JSON.parse makes it.
function stringValue(line: Buffer, start: number, end: number, escaped: boolean): string {
  if (escaped) return JSON.parse(utf8(line, start, end)) as string;
  return utf8(line, start + 1, end - 1);
}

// The last value of one member, kept with its bytes: a Service's name, an attribute, a requester repeat
// from line to line, and comparing a few bytes is cheaper than decoding them again.
class RepeatedValue {
  #bytes: Uint8Array = new Uint8Array(0);
  #text = '';

  // The value of the unescaped string literal line[start, end) (quotes included).
  read(line: Buffer, start: number, end: number): string {
    const from = start + 1;
    const to = end - 1;
    const bytes = this.#bytes;
    if (to - from === bytes.length) {
      let k = 0;
      while (k < bytes.length && line[from + k] === bytes[k]) k++;
      if (k === bytes.length) return this.#text;
    }
    const text = utf8(line, from, to);
    // Short values only: a long one is rarely repeated and not worth a copy.
    if (to - from <= 64) {
      this.#bytes = Uint8Array.prototype.slice.call(line, from, to);
      this.#text = text;
    }
    return text;
  }
}
const lastService = new RepeatedValue();
const lastAttribute = new RepeatedValue();
const lastRequester = new RepeatedValue();

// A number by JSON's grammar: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?. The index after it, or FAIL.
// (`-Infinity` fails here: parseJson takes it, plain JSON does not.)
function skipNumber(line: Uint8Array, i: number): number {
  if (line[i] === MINUS) i++;
  let c = line[i];
  if (c === ZERO) i++;
  else if (c >= 0x31 && c <= NINE) {
    i++;
    while (line[i] >= ZERO && line[i] <= NINE) i++;
  } else return FAIL;
  if (line[i] === DOT) {
    i++;
    if (!(line[i] >= ZERO && line[i] <= NINE)) return FAIL;
    while (line[i] >= ZERO && line[i] <= NINE) i++;
  }
  c = line[i];
  if (c === 0x65 || c === 0x45 /* e E */) {
    i++;
    if (line[i] === 0x2b || line[i] === MINUS) i++;
    if (!(line[i] >= ZERO && line[i] <= NINE)) return FAIL;
    while (line[i] >= ZERO && line[i] <= NINE) i++;
  }
  return i;
}

// Whether `word` (ASCII) stands at line[i].
function hasWord(line: Uint8Array, i: number, word: string): boolean {
  if (i + word.length > line.length) return false;
  for (let k = 0; k < word.length; k++) if (line[i + k] !== word.charCodeAt(k)) return false;
  return true;
}

// Skips one scalar value at line[i] (not a container): the index after it, or FAIL.
function skipScalar(line: Uint8Array, i: number): number {
  const c = line[i];
  if (c === QUOTE) return skipString(line, i);
  if (c === 0x74) return hasWord(line, i, 'true') ? i + 4 : FAIL;
  if (c === 0x66) return hasWord(line, i, 'false') ? i + 5 : FAIL;
  if (c === 0x6e) return hasWord(line, i, 'null') ? i + 4 : FAIL;
  return skipNumber(line, i);
}

// `line[i]` is a key's opening quote inside a nested object: the index after `"key" :` and the
// whitespace that follows, or FAIL.
function skipKeyAndColon(line: Uint8Array, i: number): number {
  if (line[i] !== QUOTE) return FAIL;
  i = skipSpace(line, skipString(line, i));
  if (i < 0 || line[i] !== COLON) return FAIL;
  return skipSpace(line, i + 1);
}

/**
 * Skips one JSON value of any kind at `line[i]`, whose container sits at nesting depth `depth` (the
 * top-level object is depth 1): the index after it, or -1 for a value JSON.parse refuses (and for
 * Python's bare `NaN`). Iterative, so that deep nesting cannot overflow the call stack; nesting past
 * {@link JSON_DEPTH_LIMIT} fails (parseJson refuses it with its own error).
 * @internal
 */
export function skipValue(line: Uint8Array, i: number, depth: number): number {
  let open = 0; // containers open on `stack`
  const length = line.length;
  for (;;) {
    // A value starts at line[i].
    const c = line[i];
    if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (depth + open + 1 > JSON_DEPTH_LIMIT) return FAIL;
      stack[open++] = c === OPEN_BRACE ? OBJECT : ARRAY;
      i = skipSpace(line, i + 1);
      if (line[i] === (c === OPEN_BRACE ? CLOSE_BRACE : CLOSE_BRACKET)) {
        open--;
        i++;
      } else {
        if (c === OPEN_BRACE) {
          i = skipKeyAndColon(line, i);
          if (i < 0) return FAIL;
        }
        continue;
      }
    } else {
      i = skipScalar(line, i);
      if (i < 0) return FAIL;
    }
    // After a value: close containers, or go on to the next item of the innermost one.
    for (;;) {
      if (open === 0) return i;
      i = skipSpace(line, i);
      if (i >= length) return FAIL;
      const d = line[i];
      const kind = stack[open - 1];
      if (d === COMMA) {
        i = skipSpace(line, i + 1);
        if (kind === OBJECT) {
          i = skipKeyAndColon(line, i);
          if (i < 0) return FAIL;
        }
        break;
      }
      if ((kind === ARRAY && d === CLOSE_BRACKET) || (kind === OBJECT && d === CLOSE_BRACE)) {
        open--;
        i++;
        continue;
      }
      return FAIL;
    }
  }
}

/**
 * The kind of the value that starts with byte `c` (a value {@link skipValue} has checked).
 * @internal
 */
export function kindOf(c: number): JsonKind {
  if (c === QUOTE) return 'string';
  if (c === OPEN_BRACKET) return 'array';
  if (c === OPEN_BRACE) return 'object';
  if (c === 0x74 || c === 0x66) return 'boolean';
  if (c === 0x6e) return 'null';
  return 'number';
}

// The routing members, by number.
const NOT_ROUTING = 0;
const SERVICE = 1;
const UID = 2;
const REQUESTER = 3;
const ATTRIBUTE = 4;
const ARGS = 5;
const KWARGS = 6;
const RESULT = 7;
const ERROR = 8;
// A Map, not an object: an escaped key may spell `constructor` or `__proto__`.
const KEY_NAMES = new Map<string, number>(
  Object.entries({
    service: SERVICE,
    uid: UID,
    requester: REQUESTER,
    attribute: ATTRIBUTE,
    args: ARGS,
    kwargs: KWARGS,
    result: RESULT,
    error: ERROR,
  }),
);

// Whether line[start, start + word.length) holds `word` (ASCII); the caller checked the length.
function sameBytes(line: Uint8Array, start: number, word: string): boolean {
  for (let k = 0; k < word.length; k++) if (line[start + k] !== word.charCodeAt(k)) return false;
  return true;
}

// The routing member a key literal line[start, end) (quotes included) names, compared byte by byte
// (no string is made for a key), or NOT_ROUTING.
function routingKey(line: Buffer, start: number, end: number, escaped: boolean): number {
  if (escaped) return KEY_NAMES.get(stringValue(line, start, end, true)) ?? NOT_ROUTING;
  const from = start + 1;
  switch (end - start - 2) {
    case 3:
      return sameBytes(line, from, 'uid') ? UID : NOT_ROUTING;
    case 4:
      return sameBytes(line, from, 'args') ? ARGS : NOT_ROUTING;
    case 5:
      return sameBytes(line, from, 'error') ? ERROR : NOT_ROUTING;
    case 6:
      if (sameBytes(line, from, 'kwargs')) return KWARGS;
      return sameBytes(line, from, 'result') ? RESULT : NOT_ROUTING;
    case 7:
      return sameBytes(line, from, 'service') ? SERVICE : NOT_ROUTING;
    case 9:
      if (sameBytes(line, from, 'requester')) return REQUESTER;
      return sameBytes(line, from, 'attribute') ? ATTRIBUTE : NOT_ROUTING;
    default:
      return NOT_ROUTING;
  }
}

/**
 * Scans a line (without its line end) for its routing members; `undefined` when the line is not one
 * this scanner handles (see the module's description), in which case the caller parses it in full.
 *
 * @example
 * ```ts
 * scanRoutingFields(Buffer.from('{"uid": "a", "uid": "b"}'))?.uid; // 'b', as JSON.parse keeps the last
 * ```
 */
export function scanRoutingFields(line: Buffer): RoutingFields | undefined {
  const length = line.length;
  let i = skipSpace(line, 0);
  if (line[i] !== OPEN_BRACE) return undefined;
  const fields: RoutingFields = {
    service: undefined,
    serviceKind: undefined,
    uid: undefined,
    uidKind: undefined,
    requester: undefined,
    requesterKind: undefined,
    attribute: undefined,
    attributeKind: undefined,
    argsKind: undefined,
    kwargsKind: undefined,
    resultKind: undefined,
    error: undefined,
    errorKind: undefined,
    closingBrace: -1,
  };
  i = skipSpace(line, i + 1);
  if (line[i] !== CLOSE_BRACE) {
    for (;;) {
      // A member: "key" : value
      if (line[i] !== QUOTE) return undefined;
      const keyStart = i;
      i = skipString(line, i);
      if (i < 0) return undefined;
      const key = routingKey(line, keyStart, i, sawEscape);
      i = skipSpace(line, i);
      if (line[i] !== COLON) return undefined;
      i = skipSpace(line, i + 1);
      const valueStart = i;
      i = skipValue(line, i, 1);
      if (i < 0) return undefined;
      if (key !== NOT_ROUTING) {
        const kind = kindOf(line[valueStart]);
        // sawEscape still describes the value when it was a string (skipValue's last skipString).
        let text: string | undefined;
        if (kind === 'string' && key <= ATTRIBUTE) {
          if (sawEscape) text = stringValue(line, valueStart, i, true);
          else if (key === UID) text = utf8(line, valueStart + 1, i - 1);
          else
            text = (key === SERVICE ? lastService : key === ATTRIBUTE ? lastAttribute : lastRequester).read(
              line,
              valueStart,
              i,
            );
        }
        switch (key) {
          case SERVICE:
            fields.service = text;
            fields.serviceKind = kind;
            break;
          case UID:
            fields.uid = text;
            fields.uidKind = kind;
            break;
          case REQUESTER:
            fields.requester = text;
            fields.requesterKind = kind;
            break;
          case ATTRIBUTE:
            fields.attribute = text;
            fields.attributeKind = kind;
            break;
          case ARGS:
            fields.argsKind = kind;
            break;
          case KWARGS:
            fields.kwargsKind = kind;
            break;
          case RESULT:
            fields.resultKind = kind;
            break;
          case ERROR:
            fields.error = kind === 'boolean' ? line[valueStart] === 0x74 : undefined;
            fields.errorKind = kind;
            break;
        }
      }
      i = skipSpace(line, i);
      if (line[i] === COMMA) {
        i = skipSpace(line, i + 1);
        continue;
      }
      if (line[i] === CLOSE_BRACE) break;
      return undefined;
    }
  }
  fields.closingBrace = i;
  if (skipSpace(line, i + 1) !== length) return undefined;
  return fields;
}
