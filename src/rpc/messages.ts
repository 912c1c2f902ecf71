/**
 * The rpc messages: each frame body is one short MessagePack array whose first element is the message
 * kind. The byte-by-byte layout, with examples, is in `docs/protocol.md`.
 *
 * ```
 * HELLO    [0, version, ownerId, address | null, nonce | null]      first message each side sends
 * AUTH     [1, mac]                                                 answer to the peer's HELLO nonce
 * REQUEST  [2, id | null, action, target, path, args, returnType?]  id null: no reply wanted
 * REPLY    [3, id, value]
 * ERROR    [4, id, name, message, code | null, stack | null, member | null, fields?]
 * RELEASE  [5, objectId, count]                                     borrower drops `count` references
 * RETAIN   [6, objectId, count]                                     borrower forwarded `count` references
 * CLOSE    [7, reason]                                              the sender is closing the connection
 * ```
 * @module
 */

/** The version of the message set, sent in HELLO; a peer with another version is refused. */
export const PROTOCOL_VERSION = 1;

/** The first element of every message. */
export const MessageKind = {
  HELLO: 0,
  AUTH: 1,
  REQUEST: 2,
  REPLY: 3,
  ERROR: 4,
  RELEASE: 5,
  RETAIN: 6,
  CLOSE: 7,
} as const;

/** What a REQUEST asks the receiver to do. No action evaluates code. */
export const Action = {
  /** Call `target.path(...args)` (or `target(...args)` for an empty path). */
  CALL: 0,
  /** Read `target.path` (or `target` itself for an empty path). */
  GET: 1,
  /** `target.path = args[0]`; on a published name with an empty path: publish `args[0]` under that name. */
  SET: 2,
  /** `delete target.path`. */
  DELETE: 3,
  /** Reply with `args[0]` unchanged. */
  PING: 4,
  /** Import the allow-listed module `args[0]` and reply with a reference to its namespace. */
  IMPORT: 5,
  /** Keep `args[0]` (a copy, decoded on the receiver) and reply with a reference to it. */
  TRANSFER: 6,
  /** Ask the receiving server to close. */
  CLOSE_SERVER: 7,
  /** Reply with the receiver's clock: milliseconds since the Unix epoch, sub-millisecond resolution. */
  TIME: 8,
  /** `new target.path(...args)`: only a published class or one marked `constructible()`; replies a reference. */
  CONSTRUCT: 9,
  /** Pull from the iterator of `target.path`: `args` `[0, window]` next batch, `[1]` return (see remote-iteration). */
  ITERATE: 10,
  /** Run `Symbol.asyncDispose` / `Symbol.dispose` of `target.path` (an object lent to the caller). */
  DISPOSE: 11,
  /** Reply with the names the receiving server publishes. */
  NAMES: 12,
} as const;

/** The numeric value of an {@link Action}. */
export type ActionCode = (typeof Action)[keyof typeof Action];

/** How a result travels back (the last, optional element of a REQUEST). */
export const ReturnTypeCode = { auto: 0, proxy: 1, value: 2 } as const;

/** `'auto'`: by value if it can, else by reference. `'proxy'`: always a reference. `'value'`: always a copy. */
export type ReturnType = keyof typeof ReturnTypeCode;

/**
 * The object a REQUEST addresses: `0` is the receiver's root object, a positive integer is an object the
 * receiver exported to us (its id), a string is a name the receiving server published.
 */
export type Target = number | string;

/** The names of the actions, for error messages. */
export const ACTION_NAMES: readonly string[] = [
  'call',
  'get',
  'set',
  'delete',
  'ping',
  'import',
  'transfer',
  'closeServer',
  'time',
  'construct',
  'iterate',
  'dispose',
  'names',
];

/**
 * The id of a REQUEST or the id a REPLY/ERROR answers, read from the first bytes of a body that does not
 * decode as a whole (too deep, a bad extension…), so the peer still gets an answer. Returns undefined when
 * the prefix is not `[kind, id, …` with kind REQUEST/REPLY/ERROR and an unsigned integer id.
 */
export function peekMessageHead(body: Uint8Array): { kind: number; id: number } | undefined {
  let at = 0;
  const marker = body[at++];
  if (marker === undefined) return undefined;
  if (marker >= 0x92 && marker <= 0x9f) {
    // fixarray of at least 2 elements
  } else if (marker === 0xdc) at += 2;
  else if (marker === 0xdd) at += 4;
  else return undefined;
  const kind = body[at++];
  if (kind !== MessageKind.REQUEST && kind !== MessageKind.REPLY && kind !== MessageKind.ERROR)
    return undefined;
  const idMarker = body[at++];
  if (idMarker === undefined) return undefined;
  if (idMarker <= 0x7f) return { kind, id: idMarker };
  if (idMarker === 0xcc && body.length >= at + 1) return { kind, id: body[at] };
  if (idMarker === 0xcd && body.length >= at + 2) return { kind, id: (body[at] << 8) | body[at + 1] };
  if (idMarker === 0xce && body.length >= at + 4) {
    return {
      kind,
      id: ((body[at] << 24) >>> 0) + ((body[at + 1] << 16) | (body[at + 2] << 8) | body[at + 3]),
    };
  }
  return undefined;
}

/** Requests name at most this many members in their path. */
export const MAX_PATH_LENGTH = 256;

/** What is wrong with the fields of a REQUEST, or undefined if they have the right shape. */
export function requestProblem(
  action: unknown,
  target: unknown,
  path: unknown,
  args: unknown,
  returnType: unknown,
): string | undefined {
  if (typeof action !== 'number' || ACTION_NAMES[action] === undefined)
    return `unknown action ${String(action)}`;
  if (!(typeof target === 'string' || (Number.isInteger(target) && (target as number) >= 0))) {
    return 'the target must be an object id or a published name';
  }
  if (
    !Array.isArray(path) ||
    path.length > MAX_PATH_LENGTH ||
    !path.every((name) => typeof name === 'string')
  ) {
    return `the path must be an array of at most ${MAX_PATH_LENGTH} member names`;
  }
  if (!Array.isArray(args)) return 'the arguments must be an array';
  if (returnType !== 0 && returnType !== 1 && returnType !== 2)
    return `unknown return type ${String(returnType)}`;
  return undefined;
}
