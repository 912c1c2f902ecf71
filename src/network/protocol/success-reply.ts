/**
 * A fast reading of the line a Client receives most: a successful reply, as a Service writes it
 * (`{"error": false, "requester": "…", "result": …, "uid": "…"}`, Python's member order and
 * separators). Only the `result` is parsed; the envelope is checked by comparing text. Any other line,
 * or one whose `requester` or `uid` has an escape or a control character, is left to {@link parseJson}.
 *
 * The answer is always what `parseJson` gives for the whole line: if the `result` text is one JSON value,
 * the line is exactly a JSON object with these four members (a property test holds the two together).
 *
 * @example
 * ```ts
 * parseSuccessReply('{"error": false, "requester": "C[h:1]", "result": [1, NaN], "uid": "a7"}');
 * // { uid: 'a7', result: [1, NaN] }
 * ```
 * @module
 */
import { JSON_DEPTH_LIMIT, parseJson } from './json.js';

const HEAD = '{"error": false, "requester": "';
const AFTER_REQUESTER = '", "result": ';
const BEFORE_UID = ', "uid": "';
const TAIL = '"}';
// Longer text is nested deep enough to matter: parseJson counts the envelope as one level of nesting,
// which parsing the result alone would not, so such a line takes the general path.
const MAX_LENGTH = 2 * JSON_DEPTH_LIMIT;

/** A successful reply: the request's uid and its result. */
export interface SuccessReply {
  uid: string;
  result: unknown;
}

/**
 * The uid and result of `text` if it is a successful reply in the form a Service writes; `undefined`
 * for any other text (parse that with {@link parseJson}).
 */
export function parseSuccessReply(text: string): SuccessReply | undefined {
  const length = text.length;
  if (length > MAX_LENGTH || !text.startsWith(HEAD) || !text.endsWith(TAIL)) return undefined;
  const requesterEnd = plainStringEnd(text, HEAD.length);
  if (requesterEnd === -1 || !text.startsWith(AFTER_REQUESTER, requesterEnd)) return undefined;
  const resultStart = requesterEnd + AFTER_REQUESTER.length;
  const uidMarker = text.lastIndexOf(BEFORE_UID);
  if (uidMarker < resultStart) return undefined;
  const uidStart = uidMarker + BEFORE_UID.length;
  const uidEnd = length - TAIL.length;
  if (plainStringEnd(text, uidStart) !== uidEnd) return undefined;
  let result: unknown;
  try {
    result = parseJson(text.slice(resultStart, uidMarker));
  } catch {
    return undefined;
  }
  return { uid: text.slice(uidStart, uidEnd), result };
}

// The index of the `"` closing a string whose text starts at `start`, if that text has no escape and
// no control character (then it means itself); -1 otherwise.
function plainStringEnd(text: string, start: number): number {
  const length = text.length;
  for (let i = start; i < length; i++) {
    const c = text.charCodeAt(i);
    if (c === 34 /* " */) return i;
    if (c === 92 /* \ */ || c < 32) return -1;
  }
  return -1;
}
