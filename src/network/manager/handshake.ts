/**
 * The Manager's side of the msl-network handshake: authentication (a Manager password, a user login,
 * or trusted hostnames — at most one), then the peer's identity. The error texts are the Python
 * Manager's, because Python clients show them to their users as they are.
 *
 * Each step reads the database when it runs, so users and hostnames added with `farcall user` or
 * `farcall hostname` apply to the next connection without a restart. A refused peer is answered after a
 * short delay (per connection, so guessing passwords is slow for the guesser and costs nobody else
 * anything) and disconnected.
 *
 * Internal to the Manager.
 * @module
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { lookupService, reverse } from 'node:dns/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { JsonDepthError } from '../../errors.js';
import { parseJson, stringifyJson } from '../protocol/json.js';
import {
  errorMessage,
  handshakeRequest,
  type IdentityCheck,
  isPlainObject,
  parseIdentity,
} from '../protocol/messages.js';
import { parseTerminalLine } from '../protocol/terminal.js';
import type { ManagerDatabase } from './database.js';
import type { LoginThrottle } from './login-throttle.js';
import { isLoopback, type PeerConnection } from './peer.js';

/** How the Manager authenticates peers. */
export type AuthenticationMode =
  | { kind: 'none' }
  | { kind: 'password'; password: string }
  | { kind: 'login'; database: ManagerDatabase }
  | { kind: 'hostname'; database: ManagerDatabase };

/** Context of one handshake. */
export interface HandshakeContext {
  /** `Manager[host:port]`: the requester of handshake messages. */
  managerName: string;
  /** The Date.now() value by which the handshake must be over. */
  deadline: number;
  /** Delay before a refusal, in ms (grows with the failures on the connection). */
  failureDelayMs: number;
  /** Records a connection event (never a password). */
  log(event: string): void;
  /** Records a connection event that an administrator should see (a failed login; never a password). */
  warn(event: string): void;
  /** Counts failed logins per address and account. */
  throttle: LoginThrottle;
}

/** The outcome of a login. */
export type LoginResult = { ok: true; username: string; isAdmin: boolean } | { ok: false; reason: string };

/**
 * The value a peer answered a handshake request with: the `result` member of a JSON reply, or the raw
 * text of the line (a terminal user types the answer).
 */
export function handshakeAnswer(line: Buffer): unknown {
  const text = line.toString('utf8').trimEnd();
  try {
    const value = parseJson(text);
    if (isPlainObject(value) && 'result' in value) return value.result;
  } catch (error) {
    // Too deep: refused as it is (no password or identity is a JsonDepthError).
    if (error instanceof JsonDepthError) return error;
    // not JSON: a terminal typed it
  }
  return text;
}

// The host names of an IP address (reverse DNS), or [] if there are none within `timeoutMs`.
async function reverseLookup(ip: string, timeoutMs: number): Promise<string[]> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      Promise.allSettled([reverse(ip), lookupService(ip, 0)]).then((results) =>
        results.flatMap((result) =>
          result.status !== 'fulfilled'
            ? []
            : Array.isArray(result.value)
              ? result.value
              : [result.value.hostname],
        ),
      ),
      new Promise<string[]>((resolve) => {
        timer = setTimeout(() => resolve([]), timeoutMs);
      }),
    ]);
  } catch {
    return [];
  } finally {
    clearTimeout(timer);
  }
}

function hashForCompare(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/** Compares two secrets in constant time (of their hashes, so lengths do not leak either). */
export function secretsEqual(given: unknown, expected: string): boolean {
  if (typeof given !== 'string') return false;
  return timingSafeEqual(hashForCompare(given), hashForCompare(expected));
}

async function refuse(
  peer: PeerConnection,
  context: HandshakeContext,
  message: string,
  event: string,
): Promise<void> {
  peer.failures += 1;
  context.warn(event);
  // Slow down the refusal: a guesser waits, everyone else is served meanwhile (a timer costs nothing).
  await sleep(context.failureDelayMs * 2 ** Math.min(peer.failures - 1, 4));
  peer.send(stringifyJson(errorMessage({ message, requester: context.managerName, uid: '' })));
}

// Refuses at once (no password is checked) if the peer's address, or its failures on `username`, is
// locked out; the refusal says how long to wait. Returns whether it refused.
function refuseIfLocked(peer: PeerConnection, context: HandshakeContext, username?: string): boolean {
  const sourceWait = context.throttle.sourceLockedFor(peer.ip);
  const accountWait = username === undefined ? 0 : context.throttle.accountLockedFor(username, peer.ip);
  if (sourceWait === 0 && accountWait === 0) return false;
  const seconds = Math.ceil(Math.max(sourceWait, accountWait) / 1000);
  const message =
    sourceWait >= accountWait
      ? `PermissionError: too many failed logins from ${peer.ip}; try again in ${seconds} s`
      : `PermissionError: too many failed logins for ${JSON.stringify(username)} from ${peer.ip}; try again in ${seconds} s`;
  context.warn(`rejected: locked out for ${seconds} s after too many failed logins`);
  peer.send(stringifyJson(errorMessage({ message, requester: context.managerName, uid: '' })));
  return true;
}

// What a failure is logged as: who, from where, how many (never the password).
function failureEvent(
  what: string,
  peer: PeerConnection,
  counts: { sourceFailures: number; accountFailures: number },
  username?: string,
): string {
  const account =
    username === undefined
      ? ''
      : ` for ${JSON.stringify(username)} (failure ${counts.accountFailures} for this account)`;
  return `rejected: ${what}${account} from ${peer.ip} (failure ${counts.sourceFailures} from this address)`;
}

/**
 * Runs the authentication step. Resolves `true` if the peer may go on to the identity step; on `false`
 * the peer has been answered with the error and should be closed.
 */
export async function authenticate(
  peer: PeerConnection,
  mode: AuthenticationMode,
  context: HandshakeContext,
): Promise<boolean> {
  switch (mode.kind) {
    case 'none':
      return true;
    case 'password': {
      if (refuseIfLocked(peer, context)) return false;
      peer.send(stringifyJson(handshakeRequest('password', [context.managerName], context.managerName)));
      const answer = handshakeAnswer(await peer.nextAnswer(context.deadline));
      return context.throttle.oneAtATime(peer.ip, async () => {
        if (refuseIfLocked(peer, context)) return false;
        if (secretsEqual(answer, mode.password)) {
          context.throttle.succeeded(peer.ip);
          return true;
        }
        const counts = context.throttle.failed(peer.ip);
        await refuse(
          peer,
          context,
          'ValueError: Wrong Manager password',
          failureEvent('wrong Manager password', peer, counts),
        );
        return false;
      });
    }
    case 'hostname': {
      const trusted = mode.database.listHostnames();
      if (trusted.includes(peer.hostname) || trusted.includes(peer.ip)) return true;
      // A remote peer is known by its IP address; the list may name it by host name.
      const names = isLoopback(peer.ip) ? [] : await reverseLookup(peer.ip, 2000);
      if (names.some((name) => trusted.includes(name) || trusted.includes(name.split('.')[0]))) return true;
      await refuse(
        peer,
        context,
        `ValueError: '${peer.hostname}' is not a trusted hostname`,
        'rejected: untrusted hostname',
      );
      return false;
    }
    case 'login': {
      const result = await login(peer, mode.database, context);
      if (result.ok) peer.isAdmin = result.isAdmin;
      return result.ok;
    }
  }
}

/**
 * Asks for a username and a password and checks them against the users table. Used by the `login`
 * authentication and when a non-admin peer sends an admin request. On failure the peer has been sent
 * the error (`Unregistered user` / `Wrong login password`).
 */
export async function login(
  peer: PeerConnection,
  database: ManagerDatabase,
  context: HandshakeContext,
): Promise<LoginResult> {
  if (refuseIfLocked(peer, context)) return { ok: false, reason: 'locked out' };
  peer.send(stringifyJson(handshakeRequest('username', [context.managerName], context.managerName)));
  const username = handshakeAnswer(await peer.nextAnswer(context.deadline));
  if (typeof username !== 'string' || !database.hasUser(username)) {
    const counts = context.throttle.failed(peer.ip);
    await refuse(
      peer,
      context,
      'ValueError: Unregistered user',
      failureEvent('unregistered user', peer, counts),
    );
    return { ok: false, reason: 'unregistered user' };
  }
  if (refuseIfLocked(peer, context, username)) return { ok: false, reason: 'locked out' };
  peer.send(stringifyJson(handshakeRequest('password', [username], context.managerName)));
  const password = handshakeAnswer(await peer.nextAnswer(context.deadline));
  // One check at a time per address: a guesser's parallel connections queue behind each other, not
  // in front of other people's logins (scrypt runs on libuv's thread pool, off the event loop).
  return context.throttle.oneAtATime(peer.ip, async (): Promise<LoginResult> => {
    if (refuseIfLocked(peer, context, username)) return { ok: false, reason: 'locked out' };
    const user = typeof password === 'string' ? await database.verifyUser(username, password) : undefined;
    if (user === undefined) {
      const counts = context.throttle.failed(peer.ip, username);
      await refuse(
        peer,
        context,
        'ValueError: Wrong login password',
        failureEvent('wrong login password', peer, counts, username),
      );
      return { ok: false, reason: 'wrong login password' };
    }
    context.throttle.succeeded(peer.ip);
    return { ok: true, username: user.username, isAdmin: user.isAdmin };
  });
}

/**
 * Asks for the peer's identity and validates it. A terminal may answer `client <name>`. On failure the
 * peer has been sent the error.
 */
export async function askIdentity(peer: PeerConnection, context: HandshakeContext): Promise<IdentityCheck> {
  peer.send(stringifyJson(handshakeRequest('identity', [], context.managerName)));
  let answer = handshakeAnswer(await peer.nextAnswer(context.deadline));
  if (answer instanceof JsonDepthError) {
    context.log('rejected: identity nested too deep');
    const message = `ValueError: the identity was refused: ${answer.message}`;
    peer.send(stringifyJson(errorMessage({ message, requester: context.managerName, uid: '' })));
    return { ok: false, message };
  }
  if (typeof answer === 'string') {
    const typed = parseTerminalLine(answer);
    answer = typed?.kind === 'identity' ? typed.identity : answer;
  }
  const check = parseIdentity(answer);
  if (!check.ok) {
    context.log('rejected: invalid identity');
    peer.send(
      stringifyJson(errorMessage({ message: check.message, requester: context.managerName, uid: '' })),
    );
  }
  return check;
}
