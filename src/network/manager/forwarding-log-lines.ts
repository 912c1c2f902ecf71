/**
 * The Manager's debug lines for the messages it forwards: one per request and one per reply, in the
 * log file that `farcall start` writes at debug level. They are formats ({@link LineFormat}) of parts
 * the hot path already has. The text around the uid is kept, as text and as bytes, for the last call
 * seen (the same call repeats from line to line), so a line costs a few identity checks and, for the
 * file, a copy of bytes (`parts`); the peers' names come ready made (see {@link ClientState.logName}).
 *
 * Names and sizes only: a message's arguments and results never reach the log.
 *
 * Internal to the Manager.
 * @module
 */
import { lineSafe } from '../../log/line-safe.js';
import { pythonRepr } from '../protocol/messages.js';
import { type EncodedLineParts, type LineFormat, lineFormat } from './log.js';
import type { ClientState, ServiceState } from './peer-state.js';

/**
 * `text` as Python's `repr` shows it, safe for one log line (control characters escaped): the common
 * uid or name, with nothing to escape, costs one scan and one concatenation.
 *
 * @example
 * ```ts
 * logRepr('5f0c1a2b1'); // "'5f0c1a2b1'"
 * ```
 */
export function logRepr(text: string): string {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    // A quote, a backslash or a control character (C0, DEL, C1): the full repr, then the escapes.
    if (c < 0x20 || c === 0x22 || c === 0x27 || c === 0x5c || (c >= 0x7f && c <= 0x9f))
      return lineSafe(pythonRepr(text));
  }
  return `'${text}'`;
}

/**
 * The text on one side of a line's uid, and its UTF-8 bytes with the apostrophe that quotes a plain uid
 * (`… (uid '` before it, `', …` after it): made once, used for many lines. The text takes the uid as
 * {@link logRepr} shows it; the bytes take a plain uid as it is (see {@link EncodedLines.appendParts}).
 */
class UidSide {
  text = '';
  quotedBytes: Uint8Array = new Uint8Array(0);

  constructor(readonly side: 'before' | 'after') {}

  set(text: string): void {
    this.text = text;
    this.quotedBytes = Buffer.from(this.side === 'before' ? `${text}'` : `'${text}`);
  }
}

// The text around the uid, for the last service, attribute, client and size seen: a busy Manager logs
// the same call over and over, so a line costs a few identity checks and, for the file, a copy. The names
// compared are the strings the router already holds (mostly the same objects from line to line). Only
// strings are kept, never a peer's state (which would keep a closed socket alive). Until the first line,
// they hold what no line has (undefined, -1), so that the first line always builds its text, even one
// whose names are empty.
const requestHead = new UidSide('before');
const requestTail = new UidSide('after');
let requestService: string | undefined;
let requestAttribute: string | undefined;
let requestBytes: number | undefined = -1;
let requestClient: string | undefined;

function cacheRequest(
  service: string,
  attribute: unknown,
  bytes: number | undefined,
  client: ClientState,
): void {
  // An attribute that is not a string (a terminal's request may carry anything) is never cached.
  if (requestService !== service || typeof attribute !== 'string' || requestAttribute !== attribute) {
    requestService = service;
    requestAttribute = typeof attribute === 'string' ? attribute : undefined;
    requestHead.set(`request ${service}.${lineSafe(String(attribute))} (uid `);
  }
  if (requestBytes !== bytes || requestClient !== client.logName) {
    requestBytes = bytes;
    requestClient = client.logName;
    requestTail.set(`${bytes === undefined ? '' : `, ${bytes} bytes`}) from ${client.logName}`);
  }
}

// Fills `out` with a line's cached sides around `uid`.
function fillParts(out: EncodedLineParts, head: UidSide, uid: string, tail: UidSide): true {
  out.head = head.quotedBytes;
  out.middle = uid;
  out.tail = tail.quotedBytes;
  return true;
}

/** A request from `client` (`bytes`: the line's size when it came as JSON). */
export const requestLogLine = lineFormat<string, unknown, unknown, number | undefined, ClientState>(
  (service, attribute, uid, bytes, client) => {
    cacheRequest(service, attribute, bytes, client);
    return requestHead.text + logRepr(String(uid ?? '')) + requestTail.text;
  },
  (out, service, attribute, uid, bytes, client) => {
    if (typeof uid !== 'string') return false;
    cacheRequest(service, attribute, bytes, client);
    return fillParts(out, requestHead, uid, requestTail);
  },
);

const replyHead = new UidSide('before');
const replyTail = new UidSide('after');
let replyService: string | undefined;
let replyClient: string | undefined;
let replyError = false;
let replyBytes = -1;

function cacheReply(service: ServiceState, client: ClientState, bytes: number, error: boolean): void {
  if (replyService !== service.logName || replyClient !== client.logName || replyError !== error) {
    replyService = service.logName;
    replyClient = client.logName;
    replyError = error;
    replyHead.set(`${error ? 'error reply' : 'reply'} from ${service.logName} to ${client.logName} (uid `);
  }
  if (replyBytes !== bytes) {
    replyBytes = bytes;
    replyTail.set(`, ${bytes} bytes)`);
  }
}

/** A reply (or an error reply) from `service` to `client`. */
export const replyLogLine = lineFormat<ServiceState, ClientState, string, number, boolean>(
  (service, client, uid, bytes, error) => {
    cacheReply(service, client, bytes, error);
    return replyHead.text + logRepr(uid) + replyTail.text;
  },
  (out, service, client, uid, bytes, error) => {
    cacheReply(service, client, bytes, error);
    return fillParts(out, replyHead, uid, replyTail);
  },
);

/** A notification from `service` to its linked clients. */
export const notificationLogLine: LineFormat<ServiceState, number, number, undefined, undefined> = (
  service,
  clients,
  bytes,
) => `notification from ${service.logName} to ${clients} linked clients (${bytes} bytes)`;
