/**
 * `Server32Connection`: the rpc Connection between a Client64 and its 32-bit server. Every call through
 * it — `request32`, and any call on a proxy of an object the server returned — is bracketed by its
 * client's {@link CallGuard}: the program stays alive while the call is pending (an idle client never
 * keeps it alive), and a failure is explained (a crash names its signal) before the caller sees it.
 * @module
 */
import type { Duplex } from 'node:stream';
import { Connection, type ConnectionOptions } from '../rpc/connection.js';
import type { ActionCode, Target } from '../rpc/messages.js';
import type { CallOptions } from '../rpc/remote-target.js';

/** One call, as the guard sees it. */
export interface GuardedCall {
  readonly action: ActionCode;
  readonly target: Target;
  readonly path: readonly string[];
  readonly args: readonly unknown[];
}

/** What a Server32Connection asks its client around each call that waits for a reply. */
export interface CallGuard {
  /** A call starts: keep the program alive until the matching {@link CallGuard.end}. */
  begin(): void;
  /** The call settled (after `explain`, when it failed). */
  end(): void;
  /** The error the caller sees for the call's failure `error`; may wait (e.g. for the exit status). */
  explain(error: unknown, call: GuardedCall): Promise<unknown>;
}

/** A Connection whose every waiting call is bracketed by a {@link CallGuard}. */
export class Server32Connection extends Connection {
  readonly #guard: CallGuard;

  constructor(stream: Duplex, options: ConnectionOptions, guard: CallGuard) {
    super(stream, options);
    this.#guard = guard;
  }

  override request(
    action: ActionCode,
    target: Target,
    path: readonly string[],
    args: readonly unknown[],
    options: CallOptions,
  ): Promise<unknown> {
    if (options.sync === 'off') return super.request(action, target, path, args, options);
    const guard = this.#guard;
    guard.begin();
    return super.request(action, target, path, args, options).then(
      (value) => {
        guard.end();
        return value;
      },
      async (error: unknown) => {
        // The guard's end comes after the explanation: waiting for the exit status must keep the
        // program alive too, or a crash would end it before the caller's `catch` runs.
        try {
          throw await guard.explain(error, { action, target, path, args });
        } finally {
          guard.end();
        }
      },
    );
  }
}
