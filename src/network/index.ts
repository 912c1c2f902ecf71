/**
 * `farcall/network`: a Network Manager for Services and Clients, wire-compatible with Python's
 * msl-network (JSON lines over TLS).
 *
 * @example
 * ```ts
 * import { connect, kwargs, Service, splitKwargs, startManager } from 'farcall/network';
 *
 * class Echo extends Service {
 *   echo(...all: unknown[]) {
 *     return splitKwargs(all); // [args, kwargs]
 *   }
 * }
 *
 * const manager = await startManager({ port: 0, disableTls: true });
 * const service = new Echo();
 * await service.start({ port: manager.port, disableTls: true });
 * const client = await connect({ port: manager.port, disableTls: true });
 * const echo = await client.link<Echo>('Echo');
 * console.log(await echo.echo(1, 'two', kwargs({ x: 3.5 }))); // [[1, 'two'], { x: 3.5 }]
 * await client.disconnect();
 * await service.disconnect();
 * await manager.close();
 * ```
 * @module
 */

export type { Logger } from '../log/logger.js';
export {
  type ConnectionPeer,
  type ConnectionRecord,
  type ConnectionsQuery,
  defaultTrustedHostnames,
  ManagerDatabase,
  type UserRecord,
} from './manager/database.js';
export {
  AUTHENTICATION_LINE_LIMIT,
  DEFAULT_BACKLOG_LIMIT,
  DEFAULT_HANDSHAKE_TIMEOUT,
  DEFAULT_READ_LIMIT,
  DEFAULT_UNFINISHED_LINES_LIMIT,
  DEFERRED_LINES_LIMIT,
  IDENTITY_LINE_LIMIT,
} from './manager/limits.js';
export { LOG_LEVELS, type LogLevel } from './manager/log.js';
export { LOGIN_LIMITS, type LoginLimits, LoginThrottle } from './manager/login-throttle.js';
export { Manager } from './manager/manager.js';
export { type ManagerOptions, readyLine, startManager } from './manager/start-manager.js';
export {
  type CallExtra,
  CallOptions,
  type CallOptionsInit,
  callOptions,
  isKwargs,
  type Kwargs,
  kwargs,
  splitKwargs,
} from './peers/call-arguments.js';
export {
  type CertificatePrompt,
  certificateCacheFile,
} from './peers/certificate-cache.js';
export {
  Client,
  type ConnectOptions,
  connect,
  DEFAULT_REQUEST_TIMEOUT,
  filterClientConnectKwargs,
  type IdentitiesOptions,
} from './peers/client.js';
export type { CredentialField, CredentialPrompt } from './peers/credential-prompt.js';
export {
  type AnyMethod,
  Link,
  type LinkTo,
  type NotificationHandler,
  type RemoteMethods,
  type RequestSender,
  type ServiceBaseMembers,
  type UntypedService,
} from './peers/link.js';
export { LinkedClient, type LinkedClientOf, type LinkedClientOptions } from './peers/linked-client.js';
export type { ManagerAddressOptions } from './peers/manager-socket.js';
export { Service, type ServiceOptions, type ServiceStartOptions } from './peers/service.js';
export {
  JSON_DEPTH_LIMIT,
  JSON_WRITE_DEPTH_LIMIT,
  parseJson,
  stringifyJson,
  topLevelString,
} from './protocol/json.js';
export type {
  ClientIdentity,
  ClientSummary,
  ManagerIdentity,
  PeerIdentity,
  ServiceIdentity,
  ServiceSummary,
} from './protocol/messages.js';
export { DEFAULT_PORT } from './protocol/messages.js';
export {
  certificateFingerprint,
  dumpCertificate,
  type GenerateCertificateOptions,
  type GenerateKeyOptions,
  generateCertificate,
  generateKey,
  loadOrCreateManagerCredentials,
  type ManagerCredentials,
  type ManagerCredentialsOptions,
} from './shared/certificates.js';
export {
  certsDir,
  databasePath,
  farcallHome,
  type HomePathOptions,
  keysDir,
  logsDir,
} from './shared/home.js';
