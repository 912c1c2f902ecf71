/**
 * The messages of the msl-network v1 protocol (see `protocols/msl-network.md`): their shapes as types,
 * builders that write them with the member order Python's msl-network uses, and validation of what a
 * peer sent.
 *
 * @example
 * ```ts
 * const line = stringifyJson(replyMessage({ result: 42, requester: 'Client[host:5000]', uid: 'a1' }));
 * // '{"error": false, "requester": "Client[host:5000]", "result": 42, "uid": "a1"}'
 * const kind = classifyMessage(parseJson(line)); // { kind: 'reply', ... }
 * ```
 * @module
 */

/** The TCP port a Network Manager listens on unless told otherwise (msl-network's). */
export const DEFAULT_PORT = 1875;

/** Keyword arguments of a request. */
export type Kwargs = Record<string, unknown>;

/** A request from a client: to a Service (by name) or to the Manager (`service: "Manager"`). */
export interface RequestMessage {
  service: string;
  attribute: string;
  args: unknown[];
  kwargs: Kwargs;
  error: false;
  /** Chosen by the client; the reply carries it back. */
  uid: string;
  /** Added by the Manager when it forwards the request: the client's network name. */
  requester?: string;
}

/** A successful reply. */
export interface ReplyMessage {
  error: false;
  result: unknown;
  requester: string | null;
  uid: string;
}

/** An error reply: `message` is `"ExceptionName: text"`. */
export interface ErrorMessage {
  error: true;
  message: string;
  traceback: string[];
  result: null;
  requester: string | null;
  uid: string;
}

/** A notification a Service emits; the Manager forwards it to the clients linked with the Service. */
export interface NotificationMessage {
  error: false;
  result: [unknown[], Kwargs];
  service: string;
  uid: 'notification';
}

/** The handshake requests the Manager sends to a new peer. */
export type HandshakeAttribute = 'username' | 'password' | 'identity';

/** A request the Manager sends during the handshake. */
export interface HandshakeRequestMessage {
  args: unknown[];
  attribute: HandshakeAttribute;
  error: false;
  kwargs: Kwargs;
  requester: string;
  uid: '';
}

/** The identity of a client, as sent in reply to the `identity` handshake request. */
export interface ClientIdentity {
  type: 'client';
  name: string;
  language?: string;
  os?: string;
}

/** The identity of a Service, as sent in reply to the `identity` handshake request. */
export interface ServiceIdentity {
  type: 'service';
  name: string;
  /** Method name → signature text, or constant name → value. */
  attributes: Record<string, unknown>;
  /** `<= 0` or absent: unlimited. */
  max_clients?: number;
  language?: string;
  os?: string;
  address?: string;
}

/** A peer's identity. */
export type PeerIdentity = ClientIdentity | ServiceIdentity;

/** What `link` returns, and what the Manager's identity lists for each Service. */
export interface ServiceSummary {
  attributes: Record<string, unknown>;
  address: string;
  language: string;
  os: string;
  max_clients: number;
}

/** What the Manager's identity lists for each client. */
export interface ClientSummary {
  name: string;
  address: string;
  language: string;
  os: string;
}

/** The Manager's identity (the reply to `identity`). */
export interface ManagerIdentity {
  hostname: string;
  port: number;
  attributes: Record<string, string>;
  language: string;
  os: string;
  clients: Record<string, ClientSummary>;
  services: Record<string, ServiceSummary>;
}

/** The uid a notification carries. */
export const NOTIFICATION_UID = 'notification';
/** The attribute of a leave message. */
export const DISCONNECT_ATTRIBUTE = '__disconnect__';
/** The `service` value that addresses the Manager itself. */
export const MANAGER_SERVICE = 'Manager';

// ----------------------------------------------------------------------------------------------------
// Builders (member order as Python's msl-network writes them: sorted keys)
// ----------------------------------------------------------------------------------------------------

/** A handshake request from the Manager, e.g. `handshakeRequest('identity', [], 'Manager[host:1875]')`. */
export function handshakeRequest(
  attribute: HandshakeAttribute,
  args: unknown[],
  requester: string,
): HandshakeRequestMessage {
  return { args, attribute, error: false, kwargs: {}, requester, uid: '' };
}

/** A successful reply. */
export function replyMessage(reply: {
  result: unknown;
  requester: string | null;
  uid: string;
}): ReplyMessage {
  return { error: false, requester: reply.requester, result: reply.result, uid: reply.uid };
}

/**
 * An error reply. `message` is the whole `"ExceptionName: text"`, e.g. `errorMessage({ message:
 * 'ValueError: Wrong Manager password', requester: 'Manager[h:1875]', uid: '' })`.
 */
export function errorMessage(error: {
  message: string;
  requester: string | null;
  uid: string;
  traceback?: string[];
}): ErrorMessage {
  return {
    error: true,
    message: error.message,
    requester: error.requester,
    result: null,
    traceback: error.traceback ?? [],
    uid: error.uid,
  };
}

/** A request to a Service or the Manager, as a Python client writes it. */
export function requestMessage(request: {
  service: string;
  attribute: string;
  args?: unknown[];
  kwargs?: Kwargs;
  uid: string;
}): RequestMessage {
  return {
    args: request.args ?? [],
    attribute: request.attribute,
    error: false,
    kwargs: request.kwargs ?? {},
    service: request.service,
    uid: request.uid,
  } as RequestMessage;
}

/** A notification, as a Python Service writes it. */
export function notificationMessage(service: string, args: unknown[], kwargs: Kwargs): NotificationMessage {
  return { error: false, result: [args, kwargs], service, uid: NOTIFICATION_UID };
}

// ----------------------------------------------------------------------------------------------------
// Validation
// ----------------------------------------------------------------------------------------------------

/** What a line a connected peer sent turned out to be. */
export type ClassifiedMessage =
  | { kind: 'request'; message: RequestMessage }
  | { kind: 'disconnect' }
  | { kind: 'reply'; message: ReplyMessage | ErrorMessage }
  | { kind: 'notification'; message: NotificationMessage }
  | { kind: 'invalid'; reason: string; uid: string | undefined };

/** True for a plain object (not an array, not null). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Sorts a parsed message into the protocol's kinds, in the order the Python Manager tests them:
 * a member `result` makes it a reply (or a notification, if `uid` is `"notification"`); an attribute
 * `__disconnect__` a leave; otherwise it must be a request. Missing members are reported with the
 * text a Python peer would see (`KeyError: 'service'`), and with the message's uid if it had one.
 */
export function classifyMessage(value: unknown): ClassifiedMessage {
  if (!isPlainObject(value)) {
    return {
      kind: 'invalid',
      reason: `TypeError: a message must be a JSON object, got ${describeJsonType(value)}`,
      uid: undefined,
    };
  }
  const uid = typeof value.uid === 'string' ? value.uid : undefined;
  if ('result' in value) {
    if (value.uid === NOTIFICATION_UID && typeof value.service === 'string') {
      return { kind: 'notification', message: value as unknown as NotificationMessage };
    }
    return { kind: 'reply', message: value as unknown as ReplyMessage | ErrorMessage };
  }
  if (value.attribute === DISCONNECT_ATTRIBUTE) return { kind: 'disconnect' };
  if (!('service' in value)) return { kind: 'invalid', reason: "KeyError: 'service'", uid };
  if (typeof value.service !== 'string') {
    return {
      kind: 'invalid',
      reason: `TypeError: 'service' must be a string, got ${describeJsonType(value.service)}`,
      uid,
    };
  }
  if (!('attribute' in value)) return { kind: 'invalid', reason: "KeyError: 'attribute'", uid };
  if (typeof value.attribute !== 'string') {
    return {
      kind: 'invalid',
      reason: `TypeError: 'attribute' must be a string, got ${describeJsonType(value.attribute)}`,
      uid,
    };
  }
  if ('args' in value && !Array.isArray(value.args)) {
    return {
      kind: 'invalid',
      reason: `TypeError: 'args' must be a list, got ${describeJsonType(value.args)}`,
      uid,
    };
  }
  if ('kwargs' in value && !isPlainObject(value.kwargs)) {
    return {
      kind: 'invalid',
      reason: `TypeError: 'kwargs' must be an object, got ${describeJsonType(value.kwargs)}`,
      uid,
    };
  }
  if ('uid' in value && uid === undefined) {
    return {
      kind: 'invalid',
      reason: `TypeError: 'uid' must be a string, got ${describeJsonType(value.uid)}`,
      uid,
    };
  }
  return { kind: 'request', message: value as unknown as RequestMessage };
}

/** The result of {@link parseIdentity}: the identity, or the error text the Manager answers with. */
export type IdentityCheck = { ok: true; identity: PeerIdentity } | { ok: false; message: string };

/**
 * Validates the `result` of an identity handshake reply (already parsed from JSON or from a terminal's
 * `client <name>` line). Error texts follow the Python Manager (`KeyError: 'name'`, `TypeError: Unknown
 * connection type ...`).
 */
export function parseIdentity(result: unknown): IdentityCheck {
  if (!isPlainObject(result)) {
    return {
      ok: false,
      message: `TypeError: the identity must be an object, got ${describeJsonType(result)}`,
    };
  }
  if (!('name' in result)) return { ok: false, message: "KeyError: 'name'" };
  if (typeof result.name !== 'string' || result.name.length === 0) {
    return { ok: false, message: 'TypeError: the identity name must be a non-empty string' };
  }
  if (!('type' in result)) return { ok: false, message: "KeyError: 'type'" };
  const type = typeof result.type === 'string' ? result.type.toLowerCase() : result.type;
  const language = optionalString(result.language);
  const os = optionalString(result.os);
  if (type === 'client') {
    return { ok: true, identity: { type: 'client', name: result.name, language, os } };
  }
  if (type === 'service') {
    if (!('attributes' in result)) return { ok: false, message: "KeyError: 'attributes'" };
    if (!isPlainObject(result.attributes)) {
      return { ok: false, message: 'TypeError: the service attributes must be an object' };
    }
    const maxClients = result.max_clients;
    if (maxClients !== undefined && maxClients !== null && typeof maxClients !== 'number') {
      return { ok: false, message: 'TypeError: max_clients must be an integer' };
    }
    return {
      ok: true,
      identity: {
        type: 'service',
        name: result.name,
        attributes: result.attributes,
        max_clients: typeof maxClients === 'number' ? maxClients : -1,
        language,
        os,
        address: optionalString(result.address),
      },
    };
  }
  return {
    ok: false,
    message: `TypeError: Unknown connection type ${pythonRepr(String(type))}. Must be "client" or "service"`,
  };
}

function optionalString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function describeJsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object';
  return `a ${typeof value}`;
}

// What makes pythonRepr's string form more than the string in single quotes.
const REPR_ESCAPED = /['"\\\n\r\t]/;

/**
 * A value written as Python's `repr()` would (strings quoted the Python way, lists, dicts, None,
 * True/False). Used to build error texts that match the Python Manager's.
 *
 * @example
 * ```ts
 * pythonRepr(['Q[host:1]']); // "['Q[host:1]']"
 * ```
 */
export function pythonRepr(value: unknown): string {
  if (value === null || value === undefined) return 'None';
  if (value === true) return 'True';
  if (value === false) return 'False';
  if (typeof value === 'string') {
    // Most names and uids need no escape: one concatenation instead of one per character.
    if (!REPR_ESCAPED.test(value)) return `'${value}'`;
    const quote = value.includes("'") && !value.includes('"') ? '"' : "'";
    let out = quote;
    for (const ch of value) {
      if (ch === '\\') out += '\\\\';
      else if (ch === quote) out += `\\${quote}`;
      else if (ch === '\n') out += '\\n';
      else if (ch === '\r') out += '\\r';
      else if (ch === '\t') out += '\\t';
      else out += ch;
    }
    return out + quote;
  }
  if (typeof value === 'number') {
    if (Number.isNaN(value)) return 'nan';
    if (!Number.isFinite(value)) return value > 0 ? 'inf' : '-inf';
    return String(value);
  }
  if (Array.isArray(value)) return `[${value.map(pythonRepr).join(', ')}]`;
  if (isPlainObject(value)) {
    return `{${Object.entries(value)
      .map(([k, v]) => `${pythonRepr(k)}: ${pythonRepr(v)}`)
      .join(', ')}}`;
  }
  return String(value);
}
