/**
 * Errors across the wire: the fields of an ERROR message for an error our code threw, and the error a
 * caller sees for an ERROR message it received.
 * @module
 */
import { AccessDeniedError, isErrorCode, ProtocolError, RemoteError } from '../errors.js';
import { boundedErrorFields, errorClassName, rebuildError } from './error-registry.js';
import { ACTION_NAMES, Action, type ActionCode, type Target } from './messages.js';

/**
 * `[name, message, code, stack, member, fields]` of an ERROR message for `error` (anything thrown). The
 * stack is left out unless `includeStack`; `member` names the refused member of an AccessDeniedError;
 * `fields` are the error's own enumerable data fields, bounded (see `boundedErrorFields`), or null.
 */
export function errorFields(
  error: unknown,
  includeStack: boolean,
): [string, string, string | null, string | null, string | null, Record<string, unknown> | null] {
  if (!(error instanceof Error))
    return ['Error', `A non-Error value was thrown: ${String(error)}`, null, null, null, null];
  const remote = error instanceof RemoteError;
  const name = remote ? error.remoteName : errorClassName(error);
  const message = remote ? error.message.slice(error.remoteName.length + 2) : error.message;
  const rawCode = remote ? error.remoteCode : (error as { code?: unknown }).code;
  const code = typeof rawCode === 'string' || typeof rawCode === 'number' ? String(rawCode) : null;
  const stack = includeStack ? ((remote ? error.remoteStack : error.stack) ?? null) : null;
  const member = error instanceof AccessDeniedError ? error.member : null;
  // A RemoteError passed on (a forwarded call) carries the fields of the error it stands for.
  const fields = boundedErrorFields(remote ? error.remoteFields : error);
  return [String(name), String(message), code, stack, member, fields];
}

/**
 * The error a caller rejects with for an ERROR message `[4, id, name, message, code, stack, member, fields]`:
 * AccessDeniedError for a denial, ProtocolError for a request the peer found malformed, an instance of
 * the class registered under `name` (`registerError`), RemoteError else.
 */
export function errorFromMessage(message: unknown[]): Error {
  const [, , name, text, code, stack, member, fields] = message;
  const remoteName = typeof name === 'string' ? name : 'Error';
  const remoteMessage = typeof text === 'string' ? text : String(text);
  if (code === 'ERR_FARCALL_ACCESS_DENIED' && typeof member === 'string') {
    return new AccessDeniedError(member, remoteMessage);
  }
  if (remoteName === 'ProtocolError' && isErrorCode(code)) {
    return new ProtocolError(`The peer rejected the request: ${remoteMessage}`, code);
  }
  return rebuildError({
    name: remoteName,
    message: remoteMessage,
    stack: typeof stack === 'string' ? stack : undefined,
    code: typeof code === 'string' ? code : undefined,
    // What the peer sent is bounded again here: it may not be a farcall peer.
    fields: typeof fields === 'object' && fields !== null ? boundedErrorFields(fields) : null,
  });
}

/** `The call scanner.start()`, `Reading root.status`, `The ping request`: a request, for messages. */
export function describeCall(action: ActionCode, target: Target, path: readonly string[]): string {
  const base = target === 0 ? 'root' : typeof target === 'string' ? target : `#${target}`;
  const member = path.length > 0 ? `${base}.${path.join('.')}` : base;
  const name = ACTION_NAMES[action] ?? `action ${action}`;
  if (action === Action.CALL) return `The call ${member}()`;
  if (action === Action.CONSTRUCT) return `The construction new ${member}()`;
  if (action === Action.ITERATE || action === Action.DISPOSE) return `The ${name} request for ${member}`;
  if (action === Action.GET) return `Reading ${member}`;
  return `The ${name} request${action <= Action.DELETE ? ` for ${member}` : ''}`;
}
