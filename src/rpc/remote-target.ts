/**
 * The seam every proxy stands on (capnweb's StubHook): a {@link RemoteTarget} is "something on the other
 * side that requests can address". A proxy holds one target and a deferred attribute path; each kind of
 * target is a subclass:
 *
 * - {@link ChannelTarget}: the peer's root object or a name the peer published (never released);
 * - `ImportedTarget` (references.ts): an object the peer lent us over one connection (counted, released);
 * - `ForwardedTarget` (forwarding.ts): an object a third process owns, reached over a connection to it.
 * @module
 */
import type { ActionCode, ReturnType, Target } from './messages.js';

/** Options of one call, or the defaults of a proxy (see `options(proxy, …)`). */
export interface CallOptions {
  /** Milliseconds to wait for the reply before rejecting with `ResponseTimeoutError`. `Infinity`: no limit. */
  timeout?: number;
  /** `'sync'` (default): wait for the reply. `'off'`: send and resolve at once, no reply is sent back. */
  sync?: 'sync' | 'off';
  /** How the result travels back: `'auto'` (default), `'proxy'` (always a reference), `'value'` (a copy). */
  returnType?: ReturnType;
  /**
   * Stops waiting when aborted: the call rejects with AbortError and its late reply is dropped (the peer
   * is not interrupted). Per call, e.g. `options(proxy.scan, { signal })(10)`.
   */
  signal?: AbortSignal;
}

/** What a target sends its requests through: a Connection. */
export interface RequestChannel {
  /**
   * Sends one REQUEST and resolves with the decoded reply.
   * Ownership: `path` and `args` are encoded before this returns; the caller may reuse them afterwards.
   */
  request(
    action: ActionCode,
    target: Target,
    path: readonly string[],
    args: readonly unknown[],
    options: CallOptions,
  ): Promise<unknown>;
  /** Names the peer in messages, e.g. `'tcp://127.0.0.1:5000'`. */
  describePeer(): string;
}

/** Something on the other side of a connection that requests can address. */
export abstract class RemoteTarget {
  /**
   * Performs `action` on `path` below this target.
   * Ownership: `path` and `args` are only read during the call; the target never keeps them.
   */
  abstract request(
    action: ActionCode,
    path: readonly string[],
    args: readonly unknown[],
    options: CallOptions,
  ): Promise<unknown>;
  /** Gives this target's references back to its owner, now. Idempotent; a no-op for unreleasable targets. */
  abstract release(): void;
  /** A short description for messages and `util.inspect`: `'Scanner #3 of tcp://127.0.0.1:5000'`. */
  abstract describe(): string;
}

/** The peer's root object (target 0) or an object the peer published under a name: nothing to release. */
export class ChannelTarget extends RemoteTarget {
  readonly channel: RequestChannel;
  readonly target: Target;

  constructor(channel: RequestChannel, target: Target) {
    super();
    this.channel = channel;
    this.target = target;
  }

  request(
    action: ActionCode,
    path: readonly string[],
    args: readonly unknown[],
    options: CallOptions,
  ): Promise<unknown> {
    return this.channel.request(action, this.target, path, args, options);
  }

  release(): void {}

  describe(): string {
    const what = this.target === 0 ? 'the root object' : `'${String(this.target)}'`;
    return `${what} of ${this.channel.describePeer()}`;
  }
}
