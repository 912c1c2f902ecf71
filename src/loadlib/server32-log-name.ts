/**
 * How loadlib names a request in its debug log: `request32('add')` rather than rpc's
 * `call root.request32`. Only the method name is shown, never an argument's value.
 *
 * Runs on the 32-bit server's Node 18 too.
 * @module
 */
import { ACTION_NAMES, Action, type ActionCode, type Target } from '../rpc/messages.js';

/** The longest method name a log line shows (a peer could send any string). */
const MAX_NAME_CHARS = 80;

/** `request32('add')`, `call32 #3.read`, `start`: a Client64 ⇄ Server32 request, for a log line. */
export function server32LogName(
  action: ActionCode,
  target: Target,
  path: readonly string[],
  args: readonly unknown[],
): string {
  if (action === Action.CALL && target === 0 && path.length === 1) {
    if (path[0] === 'request32' && typeof args[0] === 'string') {
      const name = args[0].length > MAX_NAME_CHARS ? `${args[0].slice(0, MAX_NAME_CHARS)}…` : args[0];
      return `request32('${name}')`;
    }
    return path[0];
  }
  const base = target === 0 ? 'root' : typeof target === 'string' ? target : `#${target}`;
  return `${ACTION_NAMES[action] ?? `action ${action}`} ${[base, ...path].join('.')} (on an object the server returned)`;
}
