/**
 * The device side of the msl-network handshake: the Manager speaks first and asks, in turn, for a
 * username, a password (the Manager's or the login's) and the identity; the device answers each with a
 * reply line. Clients and Services answer the same way; a Client also answers `username`/`password`
 * again when its first admin request makes the Manager check that it is an administrator.
 * @module
 */
import { AuthenticationError, ConnectionClosedError, MSLNetworkError, TLSError } from '../../errors.js';
import { isPlainObject, replyMessage } from '../protocol/messages.js';
import type { CredentialField, CredentialPrompt } from './credential-prompt.js';
import type { Deadline, ManagerSocket } from './manager-socket.js';
import { probeTls } from './tls-probe.js';

/** What a device answers with. */
export interface HandshakeCredentials {
  username?: string | undefined;
  password?: string | undefined;
  passwordManager?: string | undefined;
}

/** The Manager's name looks like `Manager[host:port]`. */
const MANAGER_NAME = /^Manager\[.*\]$/;

/** A request the Manager sends to a device (no `service`, an `attribute`). */
export interface ManagerRequest {
  attribute: string;
  args: unknown[];
  requester: string | null;
  uid: string;
}

/** Whether a message is a request from the Manager (a handshake question) rather than a reply. */
export function isManagerRequest(message: unknown): message is ManagerRequest {
  return (
    isPlainObject(message) &&
    typeof message.attribute === 'string' &&
    !('result' in message) &&
    message.error !== true &&
    !('service' in message)
  );
}

/**
 * The answer to a `username` or `password` question, or an error that says which option is missing.
 * A `password` question whose argument is the Manager's name wants the Manager's password; otherwise it
 * wants the login password of the user named in the argument.
 */
export function credentialAnswer(
  request: ManagerRequest,
  credentials: HandshakeCredentials,
  where: string,
  purpose: 'handshake' | 'admin' = 'handshake',
): string {
  const subject = typeof request.args?.[0] === 'string' ? (request.args[0] as string) : where;
  if (purpose === 'admin' && (credentials.username === undefined || credentials.password === undefined)) {
    // After the handshake the Manager asks for a login only for an admin request, whatever its
    // authentication mode: say that, not "it was started with --auth-login" (it may not have been).
    throw new AuthenticationError(
      `An admin request needs an administrator's login: the Manager at ${where} asks every client that ` +
        'sends one for a username and password. Pass username and password (of a user added with ' +
        "'farcall user add <name> --admin') to connect().",
    );
  }
  if (request.attribute === 'username') {
    if (credentials.username === undefined) {
      throw new AuthenticationError(
        `The Manager at ${where} requires a login (it was started with --auth-login): pass username and password.`,
      );
    }
    return credentials.username;
  }
  if (MANAGER_NAME.test(subject)) {
    if (credentials.passwordManager === undefined) {
      throw new AuthenticationError(
        `The Manager at ${where} requires its password (it was started with --auth-password): pass passwordManager.`,
      );
    }
    return credentials.passwordManager;
  }
  if (credentials.password === undefined) {
    throw new AuthenticationError(
      `The Manager at ${where} asks for the password of '${subject}': pass password.`,
    );
  }
  return credentials.password;
}

/** Which credential a Manager question wants, and the question to ask a person for it. */
export function credentialQuestion(
  request: ManagerRequest,
  where: string,
): { field: CredentialField; question: string } {
  const subject = typeof request.args?.[0] === 'string' ? (request.args[0] as string) : where;
  if (request.attribute === 'username')
    return { field: 'username', question: `Enter a username for ${subject} > ` };
  if (MANAGER_NAME.test(subject))
    return { field: 'passwordManager', question: `Enter the password for ${subject} > ` };
  return { field: 'password', question: `Enter the password for ${subject} > ` };
}

/** Turns an error reply received during the handshake into a typed error. */
export function handshakeError(message: Record<string, unknown>, where: string): Error {
  const text =
    typeof message.message === 'string'
      ? message.message
      : 'UnknownError: the Manager refused the connection';
  const traceback = Array.isArray(message.traceback) ? message.traceback.map(String) : [];
  if (/uses TLS/.test(text)) {
    // A farcall Manager tells a plain peer that it speaks TLS (a Python Manager stays silent).
    return new TLSError(
      `The Manager at ${where} uses TLS, but this connection has TLS disabled (disableTls).\n` +
        `Connect without disableTls (the Manager was not started with --disable-tls). The Manager said: ${text}`,
    );
  }
  if (/Wrong (Manager|login) password|Unregistered user|not a trusted hostname/.test(text)) {
    return new AuthenticationError(`The Manager at ${where} refused the connection: ${text}`);
  }
  return new MSLNetworkError(text, traceback);
}

/** Options of {@link answerHandshake}. */
export interface AnswerHandshakeOptions {
  /** The credentials given; a prompted answer is stored here too (for a later admin login). */
  credentials: HandshakeCredentials;
  /** Asks for a credential that `credentials` lacks; without it a missing credential is an error. */
  prompt?: CredentialPrompt | undefined;
  identity: () => unknown;
  where: { host: string; port: number };
  deadline: Deadline;
}

/**
 * Answers the Manager's handshake questions until the identity has been sent. Resolves with the
 * Manager's name (`Manager[host:port]`, from the `requester` of its questions).
 */
export function answerHandshake(connection: ManagerSocket, options: AnswerHandshakeOptions): Promise<string> {
  const { host, port } = options.where;
  const where = `${host}:${port}`;
  return new Promise<string>((resolve, reject) => {
    let settled = false;
    let heardAnything = false;
    let probeTimer: NodeJS.Timeout | undefined;
    const finish = (error: Error | undefined, managerName = '') => {
      if (settled) return;
      settled = true;
      clearTimeout(probeTimer);
      stopDeadline();
      if (error) {
        connection.destroy();
        reject(error);
      } else resolve(managerName);
    };
    const stopDeadline = options.deadline.onExpire((error) => {
      if (!connection.tls) {
        error.message +=
          '\nYou have TLS disabled (disableTls): if the Manager uses TLS, connect without disableTls.';
      }
      finish(error);
    });
    if (!connection.tls) {
      // A TLS Manager says nothing to a plain client (it waits for a TLS hello), so silence is the
      // symptom; a second connection that tries TLS tells "uses TLS" apart from "slow".
      const after = Math.min(1000, options.deadline.timeoutMs / 3);
      probeTimer = setTimeout(async () => {
        if (heardAnything || settled) return;
        if (await probeTls(host, port, Math.min(2000, options.deadline.timeoutMs))) {
          finish(
            new TLSError(
              `The Manager at ${where} uses TLS, but this connection has TLS disabled (disableTls).\n` +
                'Connect without disableTls (the Manager was not started with --disable-tls).',
            ),
          );
        }
      }, after);
    }
    connection.handlers = {
      onMessage: (message) => {
        heardAnything = true;
        if (settled) return;
        if (!isPlainObject(message))
          return finish(new MSLNetworkError(`The Manager sent an unexpected message during the handshake`));
        if (message.error === true) return finish(handshakeError(message, where));
        if (!isManagerRequest(message)) return; // not addressed to us during the handshake; ignore
        const requester = typeof message.requester === 'string' ? message.requester : `Manager[${where}]`;
        try {
          if (message.attribute === 'identity') {
            connection.send(replyMessage({ result: options.identity(), requester: null, uid: '' }));
            return finish(undefined, requester);
          }
          if (message.attribute === 'username' || message.attribute === 'password') {
            const reply = (answer: string) =>
              connection.send(
                replyMessage({ result: answer, requester: message.requester, uid: message.uid ?? '' }),
              );
            const { field, question } = credentialQuestion(message, where);
            if (options.credentials[field] === undefined && options.prompt !== undefined) {
              // The Manager waits for this answer, so nothing else arrives meanwhile; our own deadline
              // must not run out while a person types.
              options.deadline.pause();
              options.prompt(field, question).then(
                (answer) => {
                  options.deadline.resume();
                  options.credentials[field] = answer;
                  if (!settled) reply(answer);
                },
                (error: unknown) => finish(error instanceof Error ? error : new Error(String(error))),
              );
              return;
            }
            reply(credentialAnswer(message, options.credentials, where));
            return;
          }
          finish(new MSLNetworkError(`The Manager asked for '${message.attribute}' during the handshake`));
        } catch (error) {
          finish(error as Error);
        }
      },
      onInvalidLine: () => {
        heardAnything = true;
      },
      onClose: (error) => {
        finish(
          new ConnectionClosedError(
            `The Manager at ${where} closed the connection during the handshake` +
              (error ? ` (${error.message})` : '') +
              (connection.tls ? '' : '.\nIf the Manager uses TLS, connect without disableTls.'),
            error ? { cause: error } : undefined,
          ),
        );
      },
    };
  });
}
