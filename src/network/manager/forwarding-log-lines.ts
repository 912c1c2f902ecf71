/**
 * The Manager's debug lines for the messages it forwards: one per request and one per reply, in the
 * log file that `farcall start` writes at debug level. They are formats ({@link LineFormat}) of parts
 * the hot path already has, turned into text only when the log is written, after the forward; the
 * peers' names come ready made (see {@link ClientState.logName}), so a line costs a template and the
 * uid's quoting.
 *
 * Names and sizes only: a message's arguments and results never reach the log.
 *
 * Internal to the Manager.
 * @module
 */
import { lineSafe } from '../../log/line-safe.js';
import { pythonRepr } from '../protocol/messages.js';
import type { LineFormat } from './log.js';
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

/** A request from `client` (`bytes`: the line's size when it came as JSON). */
export const requestLogLine: LineFormat<string, unknown, unknown, number | undefined, ClientState> = (
  service,
  attribute,
  uid,
  bytes,
  client,
) =>
  `request ${service}.${lineSafe(String(attribute))} (uid ${logRepr(String(uid ?? ''))}` +
  `${bytes === undefined ? '' : `, ${bytes} bytes`}) from ${client.logName}`;

/** A reply (or an error reply) from `service` to `client`. */
export const replyLogLine: LineFormat<ServiceState, ClientState, string, number, boolean> = (
  service,
  client,
  uid,
  bytes,
  error,
) =>
  `${error ? 'error reply' : 'reply'} from ${service.logName} to ${client.logName} (uid ${logRepr(uid)}, ` +
  `${bytes} bytes)`;

/** A notification from `service` to its linked clients. */
export const notificationLogLine: LineFormat<ServiceState, number, number, undefined, undefined> = (
  service,
  clients,
  bytes,
) => `notification from ${service.logName} to ${clients} linked clients (${bytes} bytes)`;
