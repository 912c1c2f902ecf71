/**
 * `farcall/loadlib`: call a 32-bit library from 64-bit Node.js (`Client64` / `Server32`), and load a
 * library of this process's bitness directly (`LoadLibrary`).
 * @module
 */

export type { Logger } from '../log/logger.js';
export { type BinaryArch, processBits, readBinaryArch } from './binary-arch.js';
export { Client64 } from './client64.js';
export type {
  Call32Options,
  Client64Options,
  Client64State,
  Server32Output,
  Server32Transport,
  ShutdownOptions,
} from './client64-options.js';
export { koffi } from './koffi.js';
export {
  type KoffiFunction,
  type KoffiTypeSpec,
  LIBTYPES,
  type LibType,
  LoadLibrary,
  type LoadLibraryOptions,
} from './library.js';
export {
  defaultLibraryExtension,
  findLibraryFile,
  type LibrarySearchOptions,
  type LibrarySearchResult,
  librarySearchDirs,
} from './library-path.js';
export { formatHResult, hresultMessage } from './oledll.js';
export {
  defaultServer32Dir,
  findServer32Runtime,
  probeServer32Version,
  SETUP_SERVER32_COMMAND,
  type Server32Runtime,
  type Server32RuntimeOptions,
  server32Version,
} from './runtime.js';
export { Server32 } from './server32.js';
export type { Server32StartReply } from './server32-host.js';
export type { Server32Proxy, Server32ProxyClient, Server32ProxyMember } from './server32-proxy.js';
export {
  defaultWineDir,
  findWineServer32Runtime,
  SETUP_WINE_COMMAND,
  toWinePath,
  type WineRuntimeOptions,
  type WineServer32Runtime,
} from './wine.js';
