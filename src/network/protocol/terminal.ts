/**
 * The plain-text grammar of a "terminal" peer: someone who connects with `openssl s_client` or `nc`
 * and types requests instead of JSON (msl-network's `parse_terminal_input`). A line that is not JSON is
 * read with this grammar:
 *
 * | typed | means |
 * |---|---|
 * | `identity` | the Manager's identity |
 * | `client [name]` | (during the handshake) "I am a client called *name*" (default `Client`) |
 * | `link <service>` | link with a Service |
 * | `disconnect`, `exit`, `__disconnect__` | leave |
 * | `<service> <attribute> [args…] [key=value…]` | a request; quote names with spaces: `"My Service" read 3` |
 *
 * Values are read as Python literals where they can be (`1`, `2.5`, `"a b"`, `[1, 2]`), `true`/`false`,
 * `null`/`none` (any case); anything else is a string.
 *
 * @example
 * ```ts
 * parseTerminalLine('Echo echo 1 2.5 "a b" x=3');
 * // { kind: 'request', message: { service: 'Echo', attribute: 'echo', args: [1, 2.5, 'a b'],
 * //   kwargs: { x: 3 }, uid: '', error: false } }
 * ```
 * @module
 */
import { parseJson } from './json.js';
import type { ClientIdentity, RequestMessage } from './messages.js';

/** What a terminal line means. */
export type TerminalInput =
  | { kind: 'request'; message: RequestMessage }
  | { kind: 'identity'; identity: ClientIdentity }
  | { kind: 'disconnect' };

// The arguments are read by a hand-written scanner that never looks at a character more than a few
// times: the regular expressions it replaces (`(\w+)\s*=\s*(…)` tried at every position) backtracked
// quadratically, so one line of 40 000 word characters blocked the Manager for seconds.

/**
 * Reads one line typed at a terminal. Returns `undefined` if the line names no service and attribute
 * (the caller answers with an error).
 */
export function parseTerminalLine(text: string): TerminalInput | undefined {
  let line = text.trim();
  const lower = line.toLowerCase();
  if (lower === 'identity') return { kind: 'request', message: request('Manager', 'identity', [], {}) };
  if (lower.startsWith('client')) {
    const words = line.split(/\s+/);
    const name = words.length === 1 ? 'Client' : words.slice(1).join(' ');
    return {
      kind: 'identity',
      identity: { type: 'client', name: name.replaceAll('"', ''), language: 'unknown', os: 'unknown' },
    };
  }
  if (lower === '__disconnect__' || lower === 'disconnect' || lower === 'exit') return { kind: 'disconnect' };
  if (lower.startsWith('link')) {
    return {
      kind: 'request',
      message: request('Manager', 'link', [line.slice(4).trim().replaceAll('"', '')], {}),
    };
  }

  line = line.replaceAll("'", '"');
  let items: string[];
  if (line.startsWith('"')) {
    // "Service Name" attribute rest…
    const close = line.indexOf('"', 1);
    const name = close === -1 ? line.slice(1) : line.slice(1, close);
    const rest = close === -1 ? '' : line.slice(close + 1).trim();
    items = [name.trim()].filter(Boolean);
    if (rest !== '') items.push(...splitWords(rest, 2));
  } else {
    items = splitWords(line, 3);
  }
  if (items.length < 2) return undefined;
  const service = items[0].replaceAll('"', '');
  const attribute = items[1].replaceAll('"', '');
  if (items.length === 2) return { kind: 'request', message: request(service, attribute, [], {}) };

  const parameters = items[2];
  const kwargs: Record<string, unknown> = {};
  const keywords = scanKeywords(parameters);
  for (const keyword of keywords) {
    // An own member even for `__proto__` (a plain assignment would change the object's prototype).
    Object.defineProperty(kwargs, keyword.key, {
      value: convertValue(keyword.value),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  // Positional arguments are the ones before the first key=value (Python split on the key's text,
  // which misreads `max x=1`; the match position does not).
  const firstKeyword = keywords.length > 0 ? keywords[0].start : parameters.length;
  const args = scanArguments(parameters, firstKeyword).map(convertValue);
  return { kind: 'request', message: request(service, attribute, args, kwargs) };
}

/** One `key=value` found in a terminal line's parameters. */
interface Keyword {
  /** Where the key starts. */
  start: number;
  key: string;
  value: string;
}

const SPACE = /\s/;

function isSpace(text: string, i: number): boolean {
  const c = text.charCodeAt(i);
  if (c < 128) return c === 32 || (c >= 9 && c <= 13);
  return SPACE.test(text[i]);
}

function isWord(text: string, i: number): boolean {
  const c = text.charCodeAt(i);
  // \w: [A-Za-z0-9_]
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
}

/**
 * Finds every `key = value` (spaces around `=` allowed; a value is a run of non-space, non-quote
 * characters or a double-quoted string), left to right, as `/(\w+)\s*=\s*([^"\s]+|"[^"]*")/g` would,
 * in linear time: a key can only start where a word starts, and a word that is not followed by `=`
 * is skipped whole.
 */
export function scanKeywords(text: string): Keyword[] {
  const found: Keyword[] = [];
  const length = text.length;
  const lastQuote = text.lastIndexOf('"');
  let i = 0;
  while (i < length) {
    if (!isWord(text, i)) {
      i++;
      continue;
    }
    const start = i;
    while (i < length && isWord(text, i)) i++;
    const keyEnd = i;
    let j = keyEnd;
    while (j < length && isSpace(text, j)) j++;
    if (j >= length || text[j] !== '=') {
      i = j;
      continue;
    }
    let k = j + 1;
    while (k < length && isSpace(text, k)) k++;
    const value = valueAt(text, k, lastQuote);
    if (value === undefined) {
      // No value after `=`: the regex would fail here and try again right after the key.
      i = keyEnd;
      continue;
    }
    found.push({ start, key: text.slice(start, keyEnd), value: text.slice(k, value) });
    i = value;
  }
  return found;
}

// The end of the value (a quoted string or a run of non-space, non-quote characters) starting at `k`,
// or undefined if none starts there. `lastQuote` (the last `"` of the text) makes an unclosed quote
// cost O(1) instead of a scan to the end of the text.
function valueAt(text: string, k: number, lastQuote: number): number | undefined {
  if (k >= text.length) return undefined;
  if (text[k] === '"') {
    if (k >= lastQuote) return undefined;
    return text.indexOf('"', k + 1) + 1;
  }
  let end = k;
  while (end < text.length && text[end] !== '"' && !isSpace(text, end)) end++;
  return end;
}

/**
 * The positional arguments in `text[0, end)`: runs of non-space, non-quote characters and quoted
 * strings, as `/\s*([^"\s]+|"[^"]*")/g` would find them (an unclosed quote is skipped), in linear time.
 */
export function scanArguments(text: string, end: number): string[] {
  const items: string[] = [];
  const part = text.slice(0, end);
  const lastQuote = part.lastIndexOf('"');
  let i = 0;
  while (i < part.length) {
    if (isSpace(part, i)) {
      i++;
      continue;
    }
    if (part[i] === '"' && i >= lastQuote) {
      i++;
      continue;
    }
    const value = valueAt(part, i, lastQuote) as number;
    items.push(part.slice(i, value));
    i = value;
  }
  return items;
}

// Splits on whitespace into at most `limit` items, the last keeping the rest of the text.
function splitWords(text: string, limit: number): string[] {
  const items: string[] = [];
  let rest = text.trim();
  while (rest !== '' && items.length < limit - 1) {
    const match = /\s+/.exec(rest);
    if (match === null) break;
    items.push(rest.slice(0, match.index));
    rest = rest.slice(match.index + match[0].length);
  }
  if (rest !== '') items.push(rest);
  return items;
}

// The member order of a terminal request as the Python Manager forwards it.
function request(
  service: string,
  attribute: string,
  args: unknown[],
  kwargs: Record<string, unknown>,
): RequestMessage {
  return { service, attribute, args, kwargs, uid: '', error: false };
}

function convertValue(value: string): unknown {
  const lower = value.toLowerCase();
  if (lower === 'false') return false;
  if (lower === 'true') return true;
  if (lower === 'null' || lower === 'none') return null;
  if (/^[+-]?0[xX][0-9a-fA-F]+$/.test(value)) return Number.parseInt(value, 16);
  // Python's literal_eval does not know NaN/Infinity: they stay strings.
  if (/^-?(nan|infinity)$/i.test(value)) return value;
  const text = value.startsWith('+') ? value.slice(1) : value;
  // Only what can start a JSON value is tried as JSON (a failed parse costs an exception).
  if (text === '' || !'{["-0123456789'.includes(text[0])) return value;
  try {
    return parseJson(text);
  } catch {
    return value;
  }
}

/**
 * The text of the error the Python Manager answers a line that is neither JSON nor a terminal request
 * with (`JSONDecodeError: Expecting value: line 1 column 1 (char 0)` for plain words).
 */
export function jsonDecodeErrorMessage(text: string, error: unknown): string {
  const first = text.trimStart()[0];
  if (first === undefined || !'{["-0123456789tfnNI'.includes(first)) {
    const column = text.length - text.trimStart().length;
    return `JSONDecodeError: Expecting value: line 1 column ${column + 1} (char ${column})`;
  }
  const reason = error instanceof Error ? error.message : String(error);
  return `JSONDecodeError: ${reason}`;
}
