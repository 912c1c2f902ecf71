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

export {
  type CallExtra,
  CallOptions,
  type CallOptionsInit,
  callOptions,
  isKwargs,
  type Kwargs,
  kwargs,
  splitKwargs,
} from './call-arguments.js';
export {
  type CertificatePrompt,
  certificateCacheFile,
} from './certificate-cache.js';
export {
  certificateFingerprint,
  dumpCertificate,
  type GenerateCertificateOptions,
  type GenerateKeyOptions,
  generateCertificate,
  generateKey,
  loadOrCreateManagerCredentials,
} from './certificates.js';
export {
  Client,
  type ConnectOptions,
  connect,
  DEFAULT_REQUEST_TIMEOUT,
  filterClientConnectKwargs,
  type IdentitiesOptions,
} from './client.js';
export {
  type ConnectionRecord,
  defaultTrustedHostnames,
  ManagerDatabase,
  type UserRecord,
} from './database.js';
export type { CredentialField, CredentialPrompt } from './device-handshake.js';
export { certsDir, databasePath, farcallHome, keysDir, logsDir } from './home.js';
export {
  JSON_DEPTH_LIMIT,
  JSON_WRITE_DEPTH_LIMIT,
  parseJson,
  stringifyJson,
  topLevelString,
} from './json.js';
export {
  Link,
  type LinkTo,
  type NotificationHandler,
  type RemoteMethods,
  type UntypedService,
} from './link.js';
export { LinkedClient, type LinkedClientOf, type LinkedClientOptions } from './linked-client.js';
export type { LogLevel } from './log.js';
export { LOGIN_LIMITS, type LoginLimits, LoginThrottle } from './login-throttle.js';
export * from './manager.js';
export type { ManagerAddressOptions } from './manager-socket.js';
export type {
  ClientIdentity,
  ManagerIdentity,
  PeerIdentity,
  ServiceIdentity,
  ServiceSummary,
} from './messages.js';
export { DEFAULT_PORT } from './messages.js';
export { Service, type ServiceOptions, type ServiceStartOptions } from './service.js';
