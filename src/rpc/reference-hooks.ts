/**
 * The codec hooks of one connection: how our objects and proxies become remote references in the
 * messages we send, and how the references we receive become proxies (or our own objects again).
 * @module
 */
import { ProtocolError } from '../errors.js';
import { type CodecHooks, RemoteReference } from '../wire/codec.js';
import { ByReference } from './dispatch.js';
import { ForwardedTarget } from './forwarding.js';
import { describeObject } from './policy.js';
import { createProxy, proxyParts } from './proxy.js';
import {
  ExportHolder,
  type ExportTable,
  ImportedTarget,
  ImportTable,
  type ReleaseSink,
} from './references.js';
import { ChannelTarget, type RequestChannel } from './remote-target.js';

/**
 * The object id of a reference to a name the owner published (its `typeName` is the name); `0` is the
 * owner's root object. Lent objects have positive ids.
 */
const PUBLISHED_NAME_ID = -1;
const ROOT_ID = 0;

/** Our root object (`0`) or the object we publish under a name, or undefined. */
export type PublishedLookup = (target: string | 0) => unknown;

/** The connection side of the hooks: what they need to know of the peer and send to it. */
export interface ReferencePeer extends RequestChannel, ReleaseSink {
  /** The peer's owner id (from its HELLO), once known. */
  readonly peerOwnerId: string | undefined;
  /** Where the peer listens for third parties, or null. */
  readonly peerAddress: string | null;
  /** Sends RETAIN: we forwarded `count` references of the peer's object `id` to a third process. */
  sendRetain(id: number, count: number): void;
  /** True if this side may connect directly to the owner at `address` (its own allow-list). */
  acceptsOwner(address: string | null): boolean;
  /** True if the peer connects directly to the owner at `address` (the allow-list in its HELLO). */
  peerAcceptsOwner(address: string | null): boolean;
}

/**
 * Turns values into references and back for one connection.
 *
 * Ownership: every reference `encodeObject` returns counts one more reference lent to the peer; the
 * caller must send it, or call {@link abandonMessage} if encoding the message failed.
 */
export class ReferenceHooks implements CodecHooks {
  /** The references this peer holds of our objects. */
  readonly holder = new ExportHolder();
  /** The objects this peer lent us. */
  readonly imports: ImportTable;
  readonly #peer: ReferencePeer;
  readonly #exports: ExportTable;
  /** Ids lent while encoding the current message. */
  readonly #exportedNow: number[] = [];

  readonly #published: PublishedLookup;

  constructor(peer: ReferencePeer, exports: ExportTable, published: PublishedLookup = () => undefined) {
    this.#peer = peer;
    this.#exports = exports;
    this.#published = published;
    this.imports = new ImportTable(peer);
  }

  /** Call before encoding a message that may carry objects. */
  beginMessage(): void {
    this.#exportedNow.length = 0;
  }

  /** Encoding the current message failed: the references it lent are given back (the peer never saw them). */
  abandonMessage(): void {
    for (const id of this.#exportedNow) this.#exports.release(id, 1, this.holder);
    this.#exportedNow.length = 0;
  }

  /** The connection closed: forget what the peer lent us, and what it held of ours. */
  clear(): void {
    this.imports.clear();
    this.#exports.releaseHolder(this.holder);
  }

  encodeObject(value: object): RemoteReference {
    const forced = value instanceof ByReference ? value.value : value;
    if (forced !== value || proxyParts(forced) === undefined) return this.#lend(forced);
    return this.#forward(forced);
  }

  #lend(value: object): RemoteReference {
    const id = this.#exports.export(value, this.holder);
    this.#exportedNow.push(id);
    return new RemoteReference(
      this.#exports.ownerId,
      id,
      this.#exports.address,
      typeof value === 'function',
      referenceTypeName(value),
    );
  }

  /**
   * A proxy we send on. Back over the connection it came from: the owner's own reference, which the owner
   * resolves to its object. To a peer that connects to the owner directly (the owner listens, and its
   * address is on the allow-list the peer sent in its HELLO): the owner's reference and address, after a
   * RETAIN to the owner so it counts the new holder until the peer claims it. Otherwise: lent as our own
   * object, so the peer's requests for it pass through us and nobody connects anywhere.
   */
  #forward(proxy: object): RemoteReference {
    const parts = proxyParts(proxy) as { target: unknown; path: readonly string[] };
    if (parts.path.length > 0) {
      throw new TypeError(
        `A deferred attribute path (proxy.${parts.path.join('.')}) cannot be sent: await it first to send its value`,
      );
    }
    const target = parts.target;
    // The peer's root or one of its published names (`client.get('t')`), sent back to it: it resolves the
    // name itself, so it gets its own object, never a proxy of our proxy. (Before the peer's HELLO its
    // owner id is unknown: the proxy is lent, and calls on it pass through us.)
    if (
      target instanceof ChannelTarget &&
      target.channel === this.#peer &&
      this.#peer.peerOwnerId !== undefined
    ) {
      const name = target.target;
      if (name === ROOT_ID || typeof name === 'string') {
        return new RemoteReference(
          this.#peer.peerOwnerId as string,
          name === ROOT_ID ? ROOT_ID : PUBLISHED_NAME_ID,
          this.#peer.peerAddress ?? null,
          true,
          name === ROOT_ID ? '' : name,
        );
      }
    }
    if (target instanceof ImportedTarget && !target.released) {
      const owner = target.channel as ReferencePeer;
      const ownerId = owner.peerOwnerId as string;
      const typeName = target.typeName;
      if (owner === this.#peer)
        return new RemoteReference(ownerId, target.id, owner.peerAddress, true, typeName);
      if (
        ownerId !== this.#peer.peerOwnerId &&
        owner.peerAddress !== null &&
        this.#peer.peerAcceptsOwner(owner.peerAddress)
      ) {
        owner.sendRetain(target.id, 1);
        return new RemoteReference(ownerId, target.id, owner.peerAddress, true, typeName);
      }
    }
    if (target instanceof ForwardedTarget && target.connectedOver(this.#peer)) return target.reference;
    return this.#lend(proxy);
  }

  decodeReference(reference: RemoteReference): unknown {
    if (reference.ownerId === this.#exports.ownerId && reference.objectId <= 0) {
      // Our root or a name we publish: what the peer could reach by that name anyway.
      const what = reference.objectId === ROOT_ID ? ROOT_ID : reference.typeName;
      const object =
        reference.objectId === ROOT_ID || reference.objectId === PUBLISHED_NAME_ID
          ? this.#published(what)
          : undefined;
      if (object === undefined) {
        throw new ProtocolError(
          `${this.#peer.describePeer()} sent a reference to ${what === ROOT_ID ? 'our root object' : `our published name '${what}'`}, ` +
            'which does not exist (nothing is published under it)',
          'ERR_FARCALL_UNKNOWN_OBJECT',
        );
      }
      return object;
    }
    if (reference.ownerId === this.#exports.ownerId) {
      // Our own object back: only one lent to this peer, over this connection, becomes the object again.
      const object = this.#exports.resolve(reference.objectId, this.holder);
      if (object === undefined) {
        throw new ProtocolError(
          `${this.#peer.describePeer()} sent a reference to our object #${reference.objectId}, which is not lent to it ` +
            '(it was released, or lent to another connection)',
          'ERR_FARCALL_UNKNOWN_OBJECT',
        );
      }
      return object;
    }
    if (reference.ownerId === this.#peer.peerOwnerId) {
      const target = this.imports.receive(
        reference.objectId,
        (token) => new ImportedTarget(this.#peer, this.imports, token, reference.typeName),
      );
      return proxyOfTarget(target);
    }
    // An object of a third process. Decoding it never connects anywhere: the ForwardedTarget connects when
    // the proxy is first used, and only to an owner this side's allow-list admits.
    if (this.#peer.acceptsOwner(reference.address)) return proxyOfTarget(ForwardedTarget.receive(reference));
    throw new ProtocolError(
      `${this.#peer.describePeer()} sent a reference to an object of another process ` +
        `(${reference.address === null || reference.address === '' ? 'which does not listen' : reference.address}); ` +
        "this side connects to no third process unless its 'allowOwnerConnections' option lists the address",
      'ERR_FARCALL_UNREACHABLE_OWNER',
    );
  }
}

const importProxies = new WeakMap<ImportedTarget | ForwardedTarget, object>();

/** The one proxy of an imported object, so the same remote object is always the same proxy (===). */
function proxyOfTarget(target: ImportedTarget | ForwardedTarget): object {
  let proxy = importProxies.get(target);
  if (proxy === undefined) {
    proxy = createProxy(target) as object;
    importProxies.set(target, proxy);
  }
  return proxy;
}

/** The type name a reference carries, for messages; never touches a proxy's members (that would build paths). */
function referenceTypeName(value: object): string {
  const parts = proxyParts(value);
  if (parts !== undefined) return parts.target instanceof ImportedTarget ? parts.target.typeName : 'proxy';
  if (typeof value === 'function')
    return typeof value.name === 'string' && value.name ? value.name : 'function';
  return describeObject(value).replace(/ instance$/, '');
}
