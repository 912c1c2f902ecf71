/**
 * `Server32Host`: the object a `Client64` talks to. It imports the user's server module, constructs its
 * Server32 subclass, and forwards each `request32(name, args)` to the server's method or property.
 *
 * The same host serves the real 32-bit process (`server32-main`) and mocked mode (in the client's own
 * process), so both give the same results and the same errors.
 *
 * Runs inside the 32-bit server, on Debian's i386 Node 18: Node 18 APIs only.
 * @module
 */
import { statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  isServer32Class,
  isServer32Instance,
  LIBRARY_SEARCH_PATHS,
  SERVER32_BRAND,
  type Server32,
} from './server32.js';

/**
 * The largest message either side of a Client64 ⇄ Server32 connection accepts (512 MiB): the peers are
 * one user's two processes, and an array of samples may be large. A bigger message closes the connection.
 */
export const SERVER32_MAX_MESSAGE_BYTES = 512 * 1024 * 1024;

/** What the client asks the host to start. Travels over the rpc codec: every value type survives. */
export interface Server32StartRequest {
  /** The server module: a path, a `file:` URL, or a name found in the working directory or `appendSysPath`. */
  module32: string;
  /** Folders searched for `module32`. */
  appendSysPath: string[];
  /** Folders the Server32 constructor's `LoadLibrary` searches for the library (appendEnvironPath, addDllDirectory). */
  librarySearchPaths: string[];
  /** The host and port passed to the Server32 constructor. */
  host: string | null;
  port: number;
  /** Passed to the Server32 constructor as its third argument, untouched. */
  kwargs: Record<string, unknown>;
  /** `'tcp'` or `'unix'`: listen there too, with this `authKey` (the pipe stays the control channel). */
  listen?: { address: string; authKey: string } | undefined;
}

/** What the host answers once the server is constructed. */
export interface Server32StartReply {
  /** The absolute path of the library the server loaded. */
  lib32Path: string;
  /** The name of the Server32 subclass. */
  className: string;
  /** The absolute path of the server module. */
  modulePath: string;
  /** The server's Node.js version and architecture. */
  node: string;
  arch: string;
  pid: number;
  /** The address the server listens on (TCP or Unix socket), when asked to. */
  address: string | null;
}

/** Opens the extra listener (`listen` of the start request); returns its real address. */
export type Server32Listen = (address: string, authKey: string, root: Server32Host) => Promise<string>;

const SIGNATURE_HINT =
  'A Server32 subclass is constructed as new MyServer(host, port, options) and must call super(), e.g.\n' +
  '  export class MyServer extends Server32 {\n' +
  '    constructor(host, port, options) {\n' +
  "      super('/path/to/lib32.so', 'cdll', host, port);\n" +
  '    }\n' +
  '  }';

/** Names never reachable through request32: they lead to prototypes, constructors and code. */
const FORBIDDEN = new Set(['constructor', '__proto__', 'prototype']);

/**
 * Serves one Client64: `start` once, then `request32` many times, then `shutdown` once.
 * Its public methods are what the client's Connection reaches (the rpc default policy).
 */
export class Server32Host {
  #server: Server32 | undefined;
  #starting = false;
  #shutdown: Promise<void> | undefined;
  readonly #listen: Server32Listen | undefined;
  readonly #onStartFailure: ((error: Error) => void) | undefined;

  /**
   * @param listen - opens the extra listener a start request may ask for (the 32-bit process has one)
   * @param onStartFailure - told when `start` fails (the 32-bit process prints the error and exits)
   */
  constructor(listen?: Server32Listen, onStartFailure?: (error: Error) => void) {
    this.#listen = listen;
    this.#onStartFailure = onStartFailure;
  }

  /** The constructed server, once started. */
  get server(): Server32 | undefined {
    return this.#server;
  }

  /**
   * Imports the server module, finds its Server32 subclass and constructs it.
   * @throws Error whose message says what went wrong and how to fix it
   */
  async start(request: Server32StartRequest): Promise<Server32StartReply> {
    if (this.#starting) throw new Error('This Server32 host has already been started');
    this.#starting = true;
    try {
      return await this.#start(request);
    } catch (error) {
      this.#onStartFailure?.(error as Error);
      throw error;
    }
  }

  async #start(request: Server32StartRequest): Promise<Server32StartReply> {
    const modulePath = resolveModule32(request.module32, request.appendSysPath);
    let namespace: Record<string, unknown>;
    try {
      namespace = (await import(pathToFileURL(modulePath).href)) as Record<string, unknown>;
    } catch (error) {
      throw explain(`Importing the server module ${modulePath} failed`, error);
    }
    const ServerClass = findServer32Class(namespace, modulePath);

    const globals = globalThis as Record<symbol, unknown>;
    globals[LIBRARY_SEARCH_PATHS] = request.librarySearchPaths;
    let server: unknown;
    try {
      // A subclass's constructor takes (host, port, options), whatever the base class's signature.
      const Subclass = ServerClass as unknown as new (
        host: string | null,
        port: number,
        options: Record<string, unknown>,
      ) => unknown;
      server = new Subclass(request.host, request.port, request.kwargs);
    } catch (error) {
      throw explainConstructorFailure(ServerClass.name, modulePath, error);
    } finally {
      delete globals[LIBRARY_SEARCH_PATHS];
    }
    if (!isServer32Instance(server)) {
      throw new Error(
        `The constructor of ${ServerClass.name} (in ${modulePath}) did not produce a Server32 (did it return ` +
          `another object?).\n${SIGNATURE_HINT}`,
      );
    }
    this.#server = server;
    let address: string | null = null;
    if (request.listen !== undefined) {
      if (this.#listen === undefined) throw new Error('This Server32 host cannot listen on sockets');
      address = await this.#listen(request.listen.address, request.listen.authKey, this);
    }
    return {
      lib32Path: server.path,
      className: ServerClass.name,
      modulePath,
      node: process.versions.node,
      arch: process.arch,
      pid: process.pid,
      address,
    };
  }

  /**
   * Calls the server's method `name` with `args`, or returns the value of its property `name`.
   * @throws TypeError for an unknown or private member, or arguments given to a property; whatever the
   *   method throws
   */
  request32(name: unknown, args: unknown): unknown {
    const server = this.#server;
    if (server === undefined) throw new Error('The Server32 has not been started (or failed to start)');
    if (typeof name !== 'string' || name === '') {
      throw new TypeError(`request32 needs a member name (a non-empty string), got ${String(name)}`);
    }
    const list = Array.isArray(args) ? args : [];
    const className = server.constructor.name;
    if (name.startsWith('_') || FORBIDDEN.has(name)) {
      throw new TypeError(
        `${className}.${name} is private: request32 reaches public methods and properties only ` +
          "(names that do not start with '_')",
      );
    }
    if (!hasMember(server, name)) {
      throw new TypeError(
        `${className} has no method or property '${name}'. It has: ${publicMembers(server).join(', ') || 'nothing'}.`,
      );
    }
    const value = (server as unknown as Record<string, unknown>)[name];
    if (typeof value === 'function') return Reflect.apply(value, server, list);
    if (list.length > 0) {
      throw new TypeError(
        `${className}.${name} is a property, not a method: request32('${name}') takes no arguments (got ${list.length})`,
      );
    }
    return value;
  }

  /** Runs the server's `shutdownHandler()` once (idempotent); a throw is printed, not raised. */
  shutdown(): Promise<void> {
    this.#shutdown ??= (async () => {
      const server = this.#server;
      if (server === undefined) return;
      try {
        await server.shutdownHandler();
      } catch (error) {
        process.stderr.write(`${server.constructor.name}.shutdownHandler() threw: ${stackOf(error)}\n`);
      }
    })();
    return this.#shutdown;
  }
}

/**
 * The file `module32` names: a `file:` URL, an absolute path, or a path or name (the `.js`/`.mjs`/`.cjs`
 * extension may be left out) in the working directory or an `appendSysPath` folder.
 * @throws Error listing every file tried
 */
export function resolveModule32(module32: string, appendSysPath: readonly string[]): string {
  if (typeof module32 !== 'string' || module32 === '') {
    throw new Error(`The server module must be a path or a name, got ${String(module32)}`);
  }
  const target = module32.startsWith('file:') ? fileURLToPath(module32) : module32;
  const names = /\.[cm]?js$/.test(target)
    ? [target]
    : [target, `${target}.js`, `${target}.mjs`, `${target}.cjs`];
  const dirs = isAbsolute(target) ? [''] : [process.cwd(), ...appendSysPath];
  const looked: string[] = [];
  for (const dir of dirs) {
    for (const name of names) {
      const candidate = resolve(dir, name);
      if (looked.includes(candidate)) continue;
      looked.push(candidate);
      if (isFile(candidate)) return candidate;
    }
  }
  throw new Error(
    `Cannot find the server module '${module32}'. Looked for:\n${looked.map((p) => `  ${p}`).join('\n')}\n` +
      "Fix: pass the module's absolute path (from an ES module: fileURLToPath(new URL('./my-server.js', " +
      "import.meta.url))), or add its folder to the 'appendSysPath' option.",
  );
}

/** The one Server32 subclass a module exports (its default export wins). */
function findServer32Class(namespace: Record<string, unknown>, modulePath: string): typeof Server32 {
  const exported = Object.keys(namespace);
  if (isServer32Class(namespace.default) && !isBaseClass(namespace.default)) return namespace.default;
  let candidates = [...new Set(Object.values(namespace))].filter(
    (value): value is typeof Server32 => isServer32Class(value) && !isBaseClass(value),
  );
  // A base class exported beside its subclass is not a candidate of its own.
  candidates = candidates.filter(
    (base) => !candidates.some((other) => other !== base && extendsClass(other, base)),
  );
  if (candidates.length === 1) return candidates[0];
  if (candidates.length === 0) {
    const what =
      exported.length === 0
        ? 'it exports nothing (is it empty?)'
        : `it exports ${exported.map((name) => `'${name}'`).join(', ')}, none of them a subclass of Server32`;
    throw new Error(
      `The server module ${modulePath} has no Server32 subclass: ${what}.\n` +
        `Fix: export a class that extends Server32 (import { Server32 } from 'farcall/loadlib').\n${SIGNATURE_HINT}`,
    );
  }
  throw new Error(
    `The server module ${modulePath} exports ${candidates.length} Server32 subclasses ` +
      `(${candidates.map((c) => c.name).join(', ')}) and farcall cannot tell which one to start. ` +
      'Fix: export only one, or make the one to start the default export.',
  );
}

function isBaseClass(value: typeof Server32): boolean {
  // The base class itself carries the brand as an own property; subclasses inherit it.
  return Object.getOwnPropertySymbols(value).includes(SERVER32_BRAND);
}

function extendsClass(derived: unknown, base: unknown): boolean {
  for (let p = Object.getPrototypeOf(derived); p !== null; p = Object.getPrototypeOf(p)) {
    if (p === base) return true;
  }
  return false;
}

function explainConstructorFailure(className: string, modulePath: string, error: unknown): Error {
  if (error instanceof ReferenceError && /super constructor|call super/i.test(error.message)) {
    return explain(
      `The constructor of ${className} (in ${modulePath}) does not call super()`,
      error,
      SIGNATURE_HINT,
    );
  }
  if (error instanceof Error && error.name === 'LibraryLoadError') {
    return explain(`${className} could not load its library`, error);
  }
  return explain(
    `The constructor of ${className} (in ${modulePath}) threw`,
    error,
    `The constructor is called as new ${className}(host, port, options).`,
  );
}

/** An Error whose message is `what: cause` (+ the hint) and whose stack is the cause's. */
function explain(what: string, cause: unknown, hint?: string): Error {
  const message = cause instanceof Error ? cause.message : String(cause);
  const error = new Error(`${what}: ${message}${hint === undefined ? '' : `\n${hint}`}`);
  if (cause instanceof Error && cause.stack !== undefined)
    error.stack = `${error.message}\n${stackFrames(cause)}`;
  return error;
}

function stackFrames(error: Error): string {
  return (error.stack ?? '')
    .split('\n')
    .filter((line) => /^\s+at /.test(line))
    .join('\n');
}

function stackOf(error: unknown): string {
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}

function hasMember(server: object, name: string): boolean {
  for (let p: object | null = server; p !== null && p !== Object.prototype; p = Object.getPrototypeOf(p)) {
    if (Object.hasOwn(p, name)) return true;
  }
  return false;
}

function publicMembers(server: object): string[] {
  const names = new Set<string>();
  for (let p: object | null = server; p !== null && p !== Object.prototype; p = Object.getPrototypeOf(p)) {
    for (const name of Object.getOwnPropertyNames(p)) {
      if (!name.startsWith('_') && !FORBIDDEN.has(name)) names.add(name);
    }
  }
  return [...names].sort();
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}
