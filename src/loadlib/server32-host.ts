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
  CONSTRUCTION_ARGUMENTS,
  isServer32Class,
  isServer32Instance,
  LIBRARY_SEARCH_PATHS,
  SERVER32_BRAND,
  SERVER32_CONSTRUCTOR_HINT,
  type Server32,
  SHAPE_ERROR,
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

const SIGNATURE_HINT = SERVER32_CONSTRUCTOR_HINT;

/** Names never reachable through request32: they lead to prototypes, constructors and code. */
const FORBIDDEN = new Set(['constructor', '__proto__', 'prototype']);

/**
 * The members of the Server32 base class a client may reach: plain facts about the server. The others
 * (`lib`, `library`, `shutdownHandler`, `toString`…) are the server's own unless a subclass defines them.
 */
const BASE_REACHABLE = new Set(['path', 'libtype', 'host', 'port']);
/** Instance fields the base class's constructor sets, and which of them a client may read. */
const BASE_FIELDS = new Set(['library', 'host', 'port']);
/** Never reachable, even when a subclass defines it: the lifecycle hook runs at shutdown only. */
const LIFECYCLE = new Set(['shutdownHandler']);
/** Own properties every class has, which are not static members of the user's. */
const CLASS_BUILTINS = new Set(['prototype', 'name', 'length', 'caller', 'arguments']);

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
  readonly #onStarted: (() => void) | undefined;

  /**
   * @param listen - opens the extra listener a start request may ask for (the 32-bit process has one)
   * @param onStartFailure - told when `start` fails (the 32-bit process prints the error and exits)
   * @param onStarted - told when `start` has succeeded, just before its reply is sent
   */
  constructor(listen?: Server32Listen, onStartFailure?: (error: Error) => void, onStarted?: () => void) {
    this.#listen = listen;
    this.#onStartFailure = onStartFailure;
    this.#onStarted = onStarted;
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
    let reply: Server32StartReply;
    try {
      reply = await this.#start(request);
    } catch (error) {
      this.#onStartFailure?.(error as Error);
      throw error;
    }
    this.#onStarted?.();
    return reply;
  }

  async #start(request: Server32StartRequest): Promise<Server32StartReply> {
    const modulePath = resolveModule32(request.module32, request.appendSysPath);
    let namespace: Record<string, unknown>;
    try {
      namespace = (await import(pathToFileURL(modulePath).href)) as Record<string, unknown>;
    } catch (error) {
      throw await explainImportFailure(modulePath, error);
    }
    const ServerClass = findServer32Class(namespace, modulePath);

    const globals = globalThis as Record<symbol, unknown>;
    globals[LIBRARY_SEARCH_PATHS] = request.librarySearchPaths;
    globals[CONSTRUCTION_ARGUMENTS] = { host: request.host, port: request.port, options: request.kwargs };
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
      delete globals[CONSTRUCTION_ARGUMENTS];
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
    const member = findMember(server, name);
    if (member.kind === 'missing') {
      throw new TypeError(
        `${className} has no method or property '${name}'. It has: ${publicMembers(server).join(', ') || 'nothing'}.`,
      );
    }
    if (member.kind === 'refused') throw new TypeError(`${className}.${name}: ${member.why}`);
    const value = member.value;
    if (typeof value === 'function') return Reflect.apply(value, member.self, list);
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
      modulePath,
    );
  }
  if (error instanceof Error && error.name === 'LibraryLoadError') {
    return explain(`${className} could not load its library`, error);
  }
  if (error instanceof Error && (error as unknown as Record<symbol, unknown>)[SHAPE_ERROR] === true) {
    return explain(`${className} (in ${modulePath}) cannot start`, error, undefined, modulePath);
  }
  return explain(
    `The constructor of ${className} (in ${modulePath}) threw`,
    error,
    koffiHint(error) ?? `The constructor is called as new ${className}(host, port, options).`,
    modulePath,
  );
}

async function explainImportFailure(modulePath: string, error: unknown): Promise<Error> {
  const what = `Importing the server module ${modulePath} failed`;
  if (error instanceof SyntaxError && userLocation(error, modulePath) === undefined) {
    // Node.js 18 does not say where: ask it.
    const { locateSyntaxError } = await import('./syntax-check.js');
    const found = locateSyntaxError(modulePath);
    if (found !== undefined) {
      return new Error(
        `${what}: SyntaxError: ${error.message} (at ${found.where}: ${found.source})\n${importHint(error)}`,
      );
    }
  }
  return explain(what, error, importHint(error), modulePath);
}

/** What to do about an error importing the server module, when farcall can tell. */
function importHint(error: unknown): string | undefined {
  if (error instanceof SyntaxError) {
    return (
      `The server module runs on the 32-bit runtime's Node.js ${process.versions.node}` +
      `${Server32IsInterpreter() ? '' : ' (here: this Node.js)'}, which may lack syntax newer Node.js accepts ` +
      `(e.g. the RegExp 'v' flag): write the server module for Node.js ${process.versions.node.split('.')[0]}.`
    );
  }
  return koffiHint(error);
}

/** koffi refuses a second native build in one process: the server module imports its own koffi. */
function koffiHint(error: unknown): string | undefined {
  if (!(error instanceof Error) || !/Mismatched native Koffi modules/i.test(error.message)) return undefined;
  return (
    "The server module imports a koffi other than farcall's (another version or another copy). Fix: " +
    "import { koffi } from 'farcall/loadlib' instead of from 'koffi', or install the koffi version farcall " +
    'depends on beside it.'
  );
}

function Server32IsInterpreter(): boolean {
  return (globalThis as Record<symbol, unknown>)[Symbol.for('farcall.loadlib.inServer32')] === true;
}

/**
 * An Error whose message is `what: Name: message (at file:line:col)` (+ the hint) and whose stack is
 * the cause's: the class name and the place in the user's file survive the trip to the client.
 */
function explain(what: string, cause: unknown, hint?: string, modulePath?: string): Error {
  let text: string;
  if (cause instanceof Error) {
    const where = userLocation(cause, modulePath);
    // The place goes after the message's first line: a multi-line message ends with its own hint.
    const [first, ...rest] = cause.message.split('\n');
    const at = where === undefined ? '' : ` (at ${where})`;
    text = `${cause.name}: ${first}${at}${rest.map((line) => `\n${line}`).join('')}`;
  } else text = `a non-Error value was thrown: ${String(cause)}`;
  const error = new Error(`${what}: ${text}${hint === undefined ? '' : `\n${hint}`}`);
  if (cause instanceof Error && cause.stack !== undefined)
    error.stack = `${error.message}\n${stackFrames(cause)}`;
  return error;
}

/**
 * Where in the user's module the error arose: the first stack frame in `modulePath` (a SyntaxError's
 * stack starts with `file:///…/module.mjs:6`), else the first frame.
 */
function userLocation(error: Error, modulePath: string | undefined): string | undefined {
  const lines = (error.stack ?? '').split('\n');
  const fileUrl = modulePath === undefined ? undefined : pathToFileURL(modulePath).href;
  const head = lines[0]?.trim() ?? '';
  if (fileUrl !== undefined && head.startsWith(fileUrl) && /:\d+$/.test(head)) return head;
  const frames = lines
    .filter((line) => /^\s+at /.test(line))
    .map((line) => /\((.*:\d+:\d+)\)$/.exec(line)?.[1] ?? /at (.*:\d+:\d+)$/.exec(line)?.[1])
    .filter((where): where is string => where !== undefined && !where.startsWith('node:'));
  if (fileUrl !== undefined) {
    const inModule = frames.find(
      (where) => where.startsWith(fileUrl) || where.startsWith(modulePath as string),
    );
    if (inModule !== undefined) return inModule;
  }
  return frames[0];
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

/** What `request32(name)` reaches on `server`. */
type Member =
  | { kind: 'found'; value: unknown; self: object }
  | { kind: 'refused'; why: string }
  | { kind: 'missing' };

/**
 * The member `name` of the server: an instance or prototype member of the user's classes, a static
 * member of them (called with the class as `this`), or one of the base class's {@link BASE_REACHABLE}
 * facts. The base class's internals stay out unless a subclass defines the name itself.
 */
function findMember(server: Server32, name: string): Member {
  if (LIFECYCLE.has(name)) {
    return {
      kind: 'refused',
      why: `${name}() runs when the server shuts down (shutdownServer32()); request32 cannot call it`,
    };
  }
  const base = baseClassOf(server);
  const baseProto = base?.prototype as object | undefined;
  const isBaseName = BASE_FIELDS.has(name) || (baseProto !== undefined && name in baseProto);
  if (Object.hasOwn(server, name) && (!BASE_FIELDS.has(name) || BASE_REACHABLE.has(name))) {
    return { kind: 'found', value: (server as unknown as Record<string, unknown>)[name], self: server };
  }
  for (
    let p: object | null = Object.getPrototypeOf(server);
    p !== null && p !== baseProto;
    p = Object.getPrototypeOf(p)
  ) {
    if (p === Object.prototype) break;
    if (Object.hasOwn(p, name)) {
      return { kind: 'found', value: (server as unknown as Record<string, unknown>)[name], self: server };
    }
  }
  for (const cls of userClasses(server, base)) {
    if (!CLASS_BUILTINS.has(name) && Object.hasOwn(cls, name)) {
      return { kind: 'found', value: (cls as unknown as Record<string, unknown>)[name], self: cls };
    }
  }
  if (isBaseName) {
    if (BASE_REACHABLE.has(name)) {
      return { kind: 'found', value: (server as unknown as Record<string, unknown>)[name], self: server };
    }
    return {
      kind: 'refused',
      why:
        `'${name}' belongs to the Server32 base class and stays inside the server. To give the client ` +
        `what it needs, add a method to ${server.constructor.name} that returns it.`,
    };
  }
  return { kind: 'missing' };
}

type BaseClass = abstract new (...args: never[]) => unknown;

/** Each server class's base class, found once: request32 asks on every call. */
const baseClasses = new WeakMap<object, BaseClass | undefined>();

/** The Server32 base class (of whichever copy of farcall) in `server`'s class chain. */
function baseClassOf(server: object): BaseClass | undefined {
  const own = server.constructor as unknown;
  if (typeof own === 'function' && baseClasses.has(own)) return baseClasses.get(own);
  let found: BaseClass | undefined;
  for (let c = own; typeof c === 'function'; c = Object.getPrototypeOf(c)) {
    if (Object.getOwnPropertySymbols(c).includes(SERVER32_BRAND)) {
      found = c as BaseClass;
      break;
    }
  }
  if (typeof own === 'function') baseClasses.set(own, found);
  return found;
}

/** The user's classes from the server's own class up to (not including) the base class. */
function userClasses(server: object, base: unknown): object[] {
  const classes: object[] = [];
  for (
    let c = server.constructor as unknown;
    typeof c === 'function' && c !== base;
    c = Object.getPrototypeOf(c)
  ) {
    if (c === Function.prototype) break;
    classes.push(c as object);
  }
  return classes;
}

function publicMembers(server: Server32): string[] {
  const names = new Set<string>();
  const base = baseClassOf(server);
  const baseProto = base?.prototype as object | undefined;
  const keep = (name: string): boolean =>
    !name.startsWith('_') && !FORBIDDEN.has(name) && !LIFECYCLE.has(name);
  for (const name of Object.getOwnPropertyNames(server)) {
    if (keep(name) && (!BASE_FIELDS.has(name) || BASE_REACHABLE.has(name))) names.add(name);
  }
  for (
    let p: object | null = Object.getPrototypeOf(server);
    p !== null && p !== baseProto;
    p = Object.getPrototypeOf(p)
  ) {
    if (p === Object.prototype) break;
    for (const name of Object.getOwnPropertyNames(p)) if (keep(name)) names.add(name);
  }
  for (const cls of userClasses(server, base)) {
    for (const name of Object.getOwnPropertyNames(cls))
      if (keep(name) && !CLASS_BUILTINS.has(name)) names.add(name);
  }
  for (const name of BASE_REACHABLE) names.add(name);
  return [...names].sort();
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}
