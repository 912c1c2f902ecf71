/**
 * `farcall/wire`: bytes ⇄ messages. Addresses, transports (TCP, TLS, Unix socket / named pipe, a child's
 * pipes), length-prefixed frames and the MessagePack codec that every other part of farcall stands on.
 * @module
 */

export type { Logger } from '../log/logger.js';
export { type Address, formatAddress, LOOPBACK_HOST, parseAddress, toAddress } from './address.js';
export {
  Codec,
  type CodecHooks,
  type CodecOptions,
  ExtensionType,
  RemoteReference,
  TypedArrayCode,
} from './codec.js';
export { FramedSocket, type FramedSocketOptions } from './framed-socket.js';
export { DEFAULT_MAX_FRAME_BYTES, encodeFrameHeader, FRAME_HEADER_BYTES, FrameDecoder } from './frames.js';
export { checkDepth } from './msgpack-scan.js';
export {
  type ConnectOptions,
  childChannel,
  connectTransport,
  type Listener,
  type ListenOptions,
  listenTransport,
  parentChannel,
  stdioChannel,
} from './transports.js';
