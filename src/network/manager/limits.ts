/**
 * The Manager's limits on what a peer may make it hold: line sizes before and after authentication,
 * the unsent backlog per peer, unfinished lines of all peers together, lines deferred behind an admin
 * login, and the handshake's deadline.
 * @module
 */
/** The default largest line (message) a peer may send after the handshake: 256 MiB. */
export const DEFAULT_READ_LIMIT = 256 * 1024 * 1024;
/** The default handshake deadline, in milliseconds. */
export const DEFAULT_HANDSHAKE_TIMEOUT = 30_000;
/**
 * The largest line a peer may send before it has authenticated (its username or password answer):
 * 16 KiB. A peer that has not proven itself may not make the Manager buffer (or parse) more.
 */
export const AUTHENTICATION_LINE_LIMIT = 16 * 1024;
/** The largest identity line (a Service's identity lists its attributes): 1 MiB. */
export const IDENTITY_LINE_LIMIT = 1024 * 1024;
/** The default backlog a peer may leave unread before it is disconnected: 64 MiB, or twice `readLimit`. */
export const DEFAULT_BACKLOG_LIMIT = 64 * 1024 * 1024;
/** The default limit of all unfinished lines together: 512 MiB, or twice `readLimit` if that is more. */
export const DEFAULT_UNFINISHED_LINES_LIMIT = 512 * 1024 * 1024;
/**
 * Lines a client sends while its admin login waits are kept (in order) up to this many bytes; past
 * that the Manager stops reading the client until the login is over.
 */
export const DEFERRED_LINES_LIMIT = 1024 * 1024;
