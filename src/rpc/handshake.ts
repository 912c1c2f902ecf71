/**
 * The start of every rpc connection: HELLO both ways, then (with an `authKey`) an HMAC-SHA256
 * challenge-response in both directions. A pure state machine: the Connection feeds it the peer's
 * messages and does what each {@link HandshakeStep} says.
 *
 * Each side's HELLO carries a random nonce when it has a key; each answers the peer's nonce with
 * `HMAC(key, "farcall-auth-v1 " + side ‖ peerNonce ‖ ownNonce)`, where `side` is the answering side's role
 * ('client' or 'server'). A side checks the peer's answer with the role opposite to its own, so an
 * attacker cannot reflect a server's answers back at it (a server only ever produces 'server' answers and
 * only accepts 'client' ones).
 * @module
 */
import { ConnectionTimeoutError, ProtocolError } from '../errors.js';
// node:crypto is loaded only by a connection with a key (see ../internal/crypto).
import { nodeCrypto, randomBytes } from '../internal/crypto.js';
import { MessageKind, PROTOCOL_VERSION } from './messages.js';

/** Which end of a connection this is, for the direction label of the authentication MACs. */
export type ConnectionSide = 'client' | 'server';

/** What the Connection must do after a handshake message. */
export type HandshakeStep =
  /** The peer is verified (or no key is used): serve its requests, send ours. */
  | { kind: 'done' }
  /** Send this AUTH message and wait for the peer's. */
  | { kind: 'answer'; message: unknown[] }
  /** Authentication failed: tell the peer `message` in a CLOSE, then close with an AuthenticationError. */
  | { kind: 'refuse'; message: string }
  /** The peer broke the protocol: close with this error. */
  | { kind: 'fail'; error: Error };

const NONCE_BYTES = 32;

/** The handshake state of one connection. */
export class Handshake {
  readonly #key: Buffer | undefined;
  readonly #nonce: Buffer | undefined;
  readonly #side: ConnectionSide;
  readonly #peerName: string;
  #peerNonce: Buffer | undefined;
  /** The peer's HELLO has arrived. */
  helloReceived = false;
  /** The peer proved it knows the key (or no key is used). */
  verified = false;
  /** The peer's owner id, from its HELLO. */
  peerOwnerId: string | undefined;
  /** Where the peer listens for third parties, from its HELLO. */
  peerAddress: string | null = null;
  /** The peer's HELLO carried a nonce: it requires authentication. */
  peerWantsAuth = false;
  /** The owner addresses the peer connects to directly (its `allowOwnerConnections`), from its HELLO. */
  peerOwnerConnections: readonly unknown[] = [];

  constructor(key: string | Uint8Array | undefined, side: ConnectionSide, peerName: string) {
    this.#key =
      key === undefined ? undefined : typeof key === 'string' ? Buffer.from(key, 'utf8') : Buffer.from(key);
    this.#nonce = this.#key === undefined ? undefined : randomBytes(NONCE_BYTES);
    this.#side = side;
    this.#peerName = peerName;
  }

  /** True if either side asked for authentication (a failure then is an authentication failure). */
  get authenticating(): boolean {
    return this.#key !== undefined || this.peerWantsAuth;
  }

  /**
   * Our HELLO: `[0, version, ownerId, address, nonce, ownerConnections]`. The last element (the addresses
   * of third owners we connect to directly) is optional: a peer that does not send it connects to none.
   */
  hello(ownerId: string, address: string | null, ownerConnections: readonly string[] = []): unknown[] {
    const message: unknown[] = [MessageKind.HELLO, PROTOCOL_VERSION, ownerId, address, this.#nonce ?? null];
    if (ownerConnections.length > 0) message.push(ownerConnections);
    return message;
  }

  /** The peer's HELLO arrived. */
  onHello(message: unknown[]): HandshakeStep {
    if (this.helloReceived)
      return { kind: 'fail', error: new ProtocolError(`${this.#peerName} sent a second HELLO`) };
    const [, version, ownerId, address, nonce, ownerConnections] = message;
    if (version !== PROTOCOL_VERSION) {
      return {
        kind: 'fail',
        error: new ProtocolError(
          `${this.#peerName} speaks rpc protocol version ${String(version)}, this side ${PROTOCOL_VERSION}: ` +
            'use the same farcall version on both sides',
          'ERR_FARCALL_VERSION',
        ),
      };
    }
    if (typeof ownerId !== 'string' || !(address === null || typeof address === 'string')) {
      return { kind: 'fail', error: new ProtocolError(`${this.#peerName} sent a malformed HELLO`) };
    }
    this.helloReceived = true;
    this.peerOwnerId = ownerId;
    this.peerAddress = address;
    this.peerWantsAuth = nonce instanceof Uint8Array;
    if (Array.isArray(ownerConnections)) this.peerOwnerConnections = ownerConnections;
    if (this.#key === undefined) {
      if (this.peerWantsAuth) {
        return {
          kind: 'refuse',
          message: `${this.#peerName} requires an authKey: pass the same 'authKey' option on this side`,
        };
      }
      this.verified = true;
      return { kind: 'done' };
    }
    if (!(nonce instanceof Uint8Array)) {
      return {
        kind: 'refuse',
        message: `${this.#peerName} has no authKey, but this side requires one: pass the same 'authKey' on both sides`,
      };
    }
    this.#peerNonce = Buffer.from(nonce);
    if (this.#peerNonce.equals(this.#nonce as Buffer)) {
      return { kind: 'refuse', message: 'Authentication failed: the peer echoed our challenge' };
    }
    return {
      kind: 'answer',
      message: [MessageKind.AUTH, this.#mac(this.#side, this.#peerNonce, this.#nonce as Buffer)],
    };
  }

  /** The peer's AUTH arrived. */
  onAuth(mac: unknown): HandshakeStep {
    if (this.#key === undefined || this.#peerNonce === undefined || this.verified) {
      return { kind: 'refuse', message: `${this.#peerName} sent an unexpected AUTH message` };
    }
    const expected = this.#mac(
      this.#side === 'server' ? 'client' : 'server',
      this.#nonce as Buffer,
      this.#peerNonce,
    );
    if (
      !(mac instanceof Uint8Array) ||
      mac.byteLength !== expected.byteLength ||
      !nodeCrypto().timingSafeEqual(mac, expected)
    ) {
      const hint =
        this.#side === 'client'
          ? ' (or both ends are side "client": the accepting end must be side "server")'
          : '';
      return {
        kind: 'refuse',
        message: `Authentication with ${this.#peerName} failed: the authKeys differ${hint}`,
      };
    }
    this.verified = true;
    return { kind: 'done' };
  }

  /** The handshake deadline passed before the peer was verified. */
  expired(ms: number): HandshakeStep {
    if (!this.helloReceived) {
      return {
        kind: 'fail',
        error: new ConnectionTimeoutError(
          `${this.#peerName} did not send its HELLO within ${ms} ms: is it a farcall rpc peer? ` +
            '(raise the handshake timeout if it is very busy)',
          ms,
        ),
      };
    }
    return {
      kind: 'refuse',
      message: `${this.#peerName} did not authenticate within ${ms} ms: does it have the same authKey?`,
    };
  }

  /** The answer `side` gives to the challenge `challengerNonce`, bound to its own `responderNonce`. */
  #mac(side: ConnectionSide, challengerNonce: Uint8Array, responderNonce: Uint8Array): Buffer {
    return nodeCrypto()
      .createHmac('sha256', this.#key as Buffer)
      .update(`farcall-auth-v1 ${side}`)
      .update(challengerNonce)
      .update(responderNonce)
      .digest();
  }
}
