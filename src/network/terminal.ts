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

// One argument: a run of non-space, non-quote characters, or a double-quoted string.
const ARG = /\s*((?:[^"\s]+)|"(?:[^"]*)")/g;
// One keyword argument: name = value.
const KWARG = /(\w+)\s*=\s*((?:[^"\s]+)|"(?:[^"]*)")/g;

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
  let firstKeyword = parameters.length;
  for (const match of parameters.matchAll(KWARG)) {
    if (firstKeyword === parameters.length) firstKeyword = match.index ?? parameters.length;
    kwargs[match[1]] = convertValue(match[2]);
  }
  // Positional arguments are the ones before the first key=value (Python split on the key's text,
  // which misreads `max x=1`; the match position does not).
  const args = [...parameters.slice(0, firstKeyword).matchAll(ARG)].map((match) => convertValue(match[1]));
  return { kind: 'request', message: request(service, attribute, args, kwargs) };
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
  try {
    return parseJson(value.startsWith('+') ? value.slice(1) : value);
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
