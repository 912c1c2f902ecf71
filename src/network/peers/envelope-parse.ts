/**
 * The peers' fast path for the two lines they read most: a reply to a Client and a request to a Service,
 * in the member order and with the separators that msl-network's Python peers and farcall's write:
 *
 * - `{"error": false, "requester": "R", "result": V, "uid": "U"}`
 * - `{"args": A, "attribute": "X", "error": false, "kwargs": K, "service": "S", "uid": "U", "requester": "R"}`
 *
 * One regular expression checks the fixed text between the members and cuts out the short strings
 * (`R`, `U`, `X`, `S`); only the values `V`, `A` and `K` go through `JSON.parse`. The envelope's keys
 * and strings are never parsed as JSON.
 *
 * It is exact: a line is taken only when every piece is what it must be (each value parses, each string
 * has no quote, no backslash and no control character), and then the line is JSON whose parse is the
 * object returned, member for member and in the same order. Anything else returns `undefined` and the
 * caller parses the line in full: another member order, an escape in a string, Python's bare `NaN`,
 * text that is not JSON. Lines longer than twice {@link JSON_DEPTH_LIMIT} characters are left to the
 * full parse too, which checks their depth.
 *
 * @example
 * ```ts
 * parseEnvelope('{"error": false, "requester": "Client[h:1]", "result": [1, 2], "uid": "7"}');
 * // { error: false, requester: 'Client[h:1]', result: [1, 2], uid: '7' }
 * parseEnvelope('{"uid": "7", "error": false}'); // undefined: parse it in full
 * ```
 * @internal
 * @module
 */
import { JSON_DEPTH_LIMIT } from '../protocol/json.js';

/** A string that stands between quotes as it is: no quote, no backslash, no control character. */
const PLAIN = '([^"\\\\\\x00-\\x1f]*)';
/**
 * A reply: requester, result text, uid. The result's `[^]*` is greedy, so the uid is the line's last
 * member (the only split whose pieces can all be right).
 */
const REPLY = new RegExp(
  `^\\{"error": false, "requester": "${PLAIN}", "result": ([^]*), "uid": "${PLAIN}"\\}$`,
);
const REQUEST_HEAD = '{"args": ';
const ATTRIBUTE_KEY = ', "attribute": "';
/**
 * A request from where its args end (sticky): attribute, kwargs text, service, uid, requester. The tail
 * after the kwargs is three plain strings to the line's end, so only one split can match, and the lazy
 * kwargs finds it after reading as far as the kwargs go.
 */
const REQUEST_TAIL = new RegExp(
  `, "attribute": "${PLAIN}", "error": false, "kwargs": ([^]*?), "service": "${PLAIN}", "uid": "${PLAIN}", "requester": "${PLAIN}"\\}$`,
  'y',
);
/** Text nested d deep needs 2d characters: a line this short cannot be too deep for parseJson. */
const LONGEST = 2 * JSON_DEPTH_LIMIT;
const FAILED: unique symbol = Symbol('not JSON');

/** A reply or a request parsed from its envelope, or `undefined` when the line needs the full parse. */
export function parseEnvelope(text: string): Record<string, unknown> | undefined {
  if (text.length > LONGEST) return undefined;
  const second = text.charCodeAt(2);
  if (second === 0x65 /* e */) return reply(text);
  if (second === 0x61 /* a */) return request(text);
  return undefined;
}

function reply(text: string): Record<string, unknown> | undefined {
  const match = REPLY.exec(text);
  if (match === null) return undefined;
  const result = parsed(match[2]);
  if (result === FAILED) return undefined;
  return { error: false, requester: match[1], result, uid: match[3] };
}

function request(text: string): Record<string, unknown> | undefined {
  // The args end at the first attribute key. If a value inside the args holds the same text, the args
  // cut there are not JSON (no proper prefix of an array is) and the line takes the full parse.
  const argsEnd = text.indexOf(ATTRIBUTE_KEY, REQUEST_HEAD.length);
  if (argsEnd < 0 || text.slice(0, REQUEST_HEAD.length) !== REQUEST_HEAD) return undefined;
  REQUEST_TAIL.lastIndex = argsEnd;
  const match = REQUEST_TAIL.exec(text);
  if (match === null) return undefined;
  const args = parsed(text.slice(REQUEST_HEAD.length, argsEnd));
  if (args === FAILED) return undefined;
  const kwargs = parsed(match[2]);
  if (kwargs === FAILED) return undefined;
  return {
    args,
    attribute: match[1],
    error: false,
    kwargs,
    service: match[3],
    uid: match[4],
    requester: match[5],
  };
}

/** A number by JSON's grammar, which Number() reads exactly as JSON.parse does. */
const NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;
/** Longer number texts go to JSON.parse (a test for them costs more than it saves). */
const SHORT_NUMBER = 32;

// The JSON value of `text`, or FAILED (Python's NaN, or not JSON: the full parse decides and reports).
// The values a call most often takes or returns (none, a number, a list of none or one number, a flag)
// are read without JSON.parse, whose cost for a short text is mostly its own setting up.
function parsed(text: string): unknown {
  switch (text) {
    case '[]':
      return [];
    case '{}':
      return {};
    case 'null':
      return null;
    case 'true':
      return true;
    case 'false':
      return false;
  }
  const length = text.length;
  if (length <= SHORT_NUMBER) {
    if (NUMBER.test(text)) return Number(text);
    if (text.charCodeAt(0) === 0x5b /* [ */ && text.charCodeAt(length - 1) === 0x5d /* ] */) {
      const item = text.slice(1, -1);
      if (NUMBER.test(item)) return [Number(item)];
    }
  }
  try {
    return JSON.parse(text);
  } catch {
    return FAILED;
  }
}
