/**
 * The Manager's fastest path: the two lines it forwards most, in the member order and with the
 * separators that farcall's and msl-network's peers write, matched by a regular expression on the
 * line's bytes instead of {@link scanRoutingFields}' walk over every byte:
 *
 * - a Client's request: `{"args": A, "attribute": "X", "error": false, "kwargs": K, "service": "S", "uid": "U"}`
 * - a Service's reply: `{"error": false, "requester": "R", "result": V, "uid": "U"}`
 *
 * The strings (`X`, `S`, `U`, `R`) must be printable ASCII without a quote or a backslash, so that
 * the line's Latin-1 text is their value; the values (`A`, `K`, `V`) are still checked byte by byte
 * with {@link skipValue}, which refuses what JSON.parse refuses and nesting past the depth limit.
 * What it returns is what {@link scanRoutingFields} returns for the same line (a property test holds
 * the two together); any other line, and any line longer than {@link COMMON_LINE_LIMIT} bytes, returns
 * `undefined` and takes the walk.
 *
 * @example
 * ```ts
 * matchCommonLine(Buffer.from('{"error": false, "requester": "C[h:1]", "result": 1, "uid": "7"}'))?.uid; // '7'
 * ```
 * @module
 */
import { kindOf, type RoutingFields, skipValue } from './routing-fields.js';

/**
 * The longest line matched here (bytes). A longer line takes the walk, which costs it little more: its
 * values, which both check byte by byte, are then most of it (and no Latin-1 copy of it is made).
 */
export const COMMON_LINE_LIMIT = 1024;

/** A string that is its own Latin-1 text: printable ASCII (and DEL), no quote, no backslash. */
const ASCII = '([\\x20\\x21\\x23-\\x5b\\x5d-\\x7f]*)';
/**
 * A request: args, attribute, kwargs, service, uid. The args end at the first attribute key (the
 * lookahead is atomic: a value inside the args that holds the key's text makes their check below
 * fail, and the line takes the walk, instead of the pattern trying each later one); the lazy kwargs
 * end where the last two members run to the line's end, which only one place can do.
 */
const REQUEST = new RegExp(
  `^\\{"args": (?=([^]*?), "attribute": ")\\1, "attribute": "${ASCII}", "error": false, "kwargs": ([^]*?), "service": "${ASCII}", "uid": "${ASCII}"\\}$`,
);
const ARGS_START = '{"args": '.length;
const KWARGS_AFTER_ATTRIBUTE = '", "error": false, "kwargs": '.length;
const ATTRIBUTE_AFTER_ARGS = ', "attribute": "'.length;
/** A reply: requester, result, uid (the greedy result gives the uid back from the line's end). */
const REPLY = new RegExp(
  `^\\{"error": false, "requester": "${ASCII}", "result": ([^]*), "uid": "${ASCII}"\\}$`,
);
const RESULT_AFTER_REQUESTER = '", "result": '.length;
const REQUESTER_START = '{"error": false, "requester": "'.length;

type SliceDecoder = { latin1Slice?: (start: number, end: number) => string };
const hasLatin1Slice = typeof (Buffer.prototype as SliceDecoder).latin1Slice === 'function';
function latin1(line: Buffer): string {
  if (hasLatin1Slice) return (line as SliceDecoder as Required<SliceDecoder>).latin1Slice(0, line.length);
  return line.toString('latin1');
}

/** The routing members of a common request or reply line, or `undefined` (then walk the line). */
export function matchCommonLine(line: Buffer): RoutingFields | undefined {
  const length = line.length;
  if (length > COMMON_LINE_LIMIT || length < 16 || line[length - 1] !== 0x7d /* } */) return undefined;
  const second = line[2];
  if (second === 0x61 /* a */) return request(line, latin1(line));
  if (second === 0x65 /* e */) return reply(line, latin1(line));
  return undefined;
}

function request(line: Buffer, text: string): RoutingFields | undefined {
  const match = REQUEST.exec(text);
  if (match === null) return undefined;
  const argsEnd = ARGS_START + match[1].length;
  const kwargsStart = argsEnd + ATTRIBUTE_AFTER_ARGS + match[2].length + KWARGS_AFTER_ATTRIBUTE;
  // The values are JSON (of the kinds a request needs) only if each one ends where the pattern says.
  if (line[ARGS_START] !== 0x5b /* [ */ || skipValue(line, ARGS_START, 1) !== argsEnd) return undefined;
  if (
    line[kwargsStart] !== 0x7b /* { */ ||
    skipValue(line, kwargsStart, 1) !== kwargsStart + match[3].length
  ) {
    return undefined;
  }
  return {
    service: match[4],
    serviceKind: 'string',
    uid: match[5],
    uidKind: 'string',
    requester: undefined,
    requesterKind: undefined,
    attribute: match[2],
    attributeKind: 'string',
    argsKind: 'array',
    kwargsKind: 'object',
    resultKind: undefined,
    error: false,
    errorKind: 'boolean',
    closingBrace: line.length - 1,
  };
}

function reply(line: Buffer, text: string): RoutingFields | undefined {
  const match = REPLY.exec(text);
  if (match === null) return undefined;
  const resultStart = REQUESTER_START + match[1].length + RESULT_AFTER_REQUESTER;
  if (skipValue(line, resultStart, 1) !== resultStart + match[2].length) return undefined;
  return {
    service: undefined,
    serviceKind: undefined,
    uid: match[3],
    uidKind: 'string',
    requester: match[1],
    requesterKind: 'string',
    attribute: undefined,
    attributeKind: undefined,
    argsKind: undefined,
    kwargsKind: undefined,
    resultKind: kindOf(line[resultStart]),
    error: false,
    errorKind: 'boolean',
    closingBrace: line.length - 1,
  };
}
