/**
 * `farcall/rpc`: objects in another process, as if they were here.
 *
 * - {@link RPCServer} publishes objects; {@link RPCClient} connects and returns proxies of them.
 * - {@link Connection} is the symmetric core both stand on (usable directly over any byte stream).
 * - Proxies: `proxy.a.b(1, 2)` is one request; `await proxy.a` fetches a value; the built-ins
 *   {@link release}, {@link options}, {@link getValue}, {@link setAttr}, {@link deleteAttr} never collide
 *   with remote member names.
 * @module
 */

export type { Logger } from '../log/logger.js';
export {
  type ChildLogger,
  childLogger,
  type LogLevel,
  MAX_LOG_RECORD_BYTES,
  MAX_QUEUED_LOG_BYTES,
} from './child-log.js';
export { RPCClient, type RPCClientEvents, type RPCClientOptions } from './client.js';
export {
  Connection,
  type ConnectionOptions,
  type ConnectionStats,
  MAX_HANDSHAKE_FRAME_BYTES,
} from './connection.js';
export {
  type ErrorClass,
  MAX_ERROR_FIELD_BYTES,
  MAX_ERROR_FIELDS,
  registerError,
  unregisterError,
} from './error-registry.js';
export { constructible, expose } from './exposure.js';
export type { OwnerConnection } from './forwarding.js';
export type { ConnectionSide } from './handshake.js';
export {
  DEFAULT_MAX_UNAUTHENTICATED_CONNECTIONS,
  type GatedConnection,
  HandshakeGate,
} from './handshake-gate.js';
export {
  DEFAULT_ITERATION_WINDOW,
  MAX_ITERATION_WINDOW,
  MAX_OPEN_ITERATIONS,
} from './iteration-session.js';
export {
  Action,
  type ActionCode,
  MessageKind,
  PROTOCOL_VERSION,
  type ReturnType,
  ReturnTypeCode,
  type Target,
} from './messages.js';
export { AccessPolicy, type AccessPolicyOptions, type MemberAccess } from './policy.js';
export {
  type ByValueObject,
  deleteAttr,
  getValue,
  type HasMethods,
  isProxy,
  options,
  type ReachableKeys,
  type Remote,
  type RemoteClass,
  type RemoteFunction,
  type RemoteIteration,
  type RemoteMember,
  type RemoteMembers,
  type RemoteProperty,
  type RemoteResult,
  release,
  setAttr,
  type UntypedRemote,
  type UntypedRemoteMember,
} from './proxy.js';
export { ExportHolder, ExportTable } from './references.js';
export type { CallOptions, RequestChannel } from './remote-target.js';
export { type PeerInfo, RPCServer, type RPCServerOptions } from './server.js';
export { RemoteServer, type ServerHandleOwner } from './server-handle.js';
export { type ProcessExit, ProcessSpawner, type ProcessSpawnerOptions } from './spawner.js';
export type { SpawnerContext } from './spawner-config.js';
export { type ChildLogRecord, DEFAULT_LOG_RATE } from './spawner-logs.js';
