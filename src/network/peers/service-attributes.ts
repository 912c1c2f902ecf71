/**
 * Which members of a Service a client may reach, and how they are advertised in the Service's
 * identity (`attributes`: method name → signature text, as msl-network formats Python signatures).
 *
 * Reachable: methods and getters defined by the Service's own classes (below the `Service` base class)
 * and public instance fields. Never reachable: names starting with `_`, `#private` members (JavaScript
 * keeps them out of reach by construction), `constructor`, anything of `Object.prototype`, the
 * `Service` base class's own members, and names the Service ignores.
 * @module
 */

/** What a request's attribute names on the Service. */
export type ResolvedAttribute =
  | { kind: 'method'; fn: (...args: unknown[]) => unknown }
  | { kind: 'value'; value: unknown }
  | { kind: 'private' }
  | { kind: 'missing' };

/** Python's name of the shutdown hook; a farcall Service defines it as `shutdownService`. */
export const SHUTDOWN_SERVICE = 'shutdown_service';
/** The TypeScript name of the shutdown hook. */
export const SHUTDOWN_HOOK = 'shutdownService';

const OBJECT_MEMBERS = new Set(Object.getOwnPropertyNames(Object.prototype));

/**
 * Finds what `attribute` names on `service`, looking only at the classes between the service's own
 * class and `base` (exclusive), and at its own instance fields.
 */
export function resolveAttribute(
  service: object,
  base: object,
  attribute: string,
  ignored: ReadonlySet<string>,
): ResolvedAttribute {
  if (attribute.startsWith('_')) return { kind: 'private' };
  const name = attribute === SHUTDOWN_SERVICE ? SHUTDOWN_HOOK : attribute;
  if (name === 'constructor' || OBJECT_MEMBERS.has(name)) return { kind: 'missing' };
  if (attribute === SHUTDOWN_HOOK) return { kind: 'missing' }; // reachable only by its Python name
  if (Object.hasOwn(service, name)) {
    const value = (service as Record<string, unknown>)[name];
    return typeof value === 'function'
      ? { kind: 'method', fn: value as (...a: unknown[]) => unknown }
      : { kind: 'value', value };
  }
  for (
    let proto = Object.getPrototypeOf(service);
    proto !== null && proto !== base;
    proto = Object.getPrototypeOf(proto)
  ) {
    const descriptor = Object.getOwnPropertyDescriptor(proto, name);
    if (descriptor === undefined) continue;
    if (descriptor.get !== undefined) return { kind: 'value', value: descriptor.get.call(service) };
    if (typeof descriptor.value === 'function') return { kind: 'method', fn: descriptor.value };
    return { kind: 'value', value: descriptor.value };
  }
  void ignored; // ignored names stay callable, as in msl-network; they are only left out of the identity
  return { kind: 'missing' };
}

/**
 * The methods {@link resolveAttribute} found on a Service's classes, remembered by name: a Service is
 * asked for the same few methods over and over, and finding one walks its prototype chain (a property
 * descriptor per class). A remembered method counts only while the Service still has it under that name
 * (no own member in its place, the same function), so a method replaced or shadowed later is found
 * again; own members (instance fields) and getters are never remembered.
 *
 * @example
 * ```ts
 * const methods = new ServiceMethods(service);
 * let fn = methods.get('read');
 * if (fn === undefined) {
 *   const resolved = resolveAttribute(service, Service.prototype, 'read', ignored);
 *   if (resolved.kind === 'method') methods.remember('read', resolved.fn);
 * }
 * ```
 * @internal
 */
export class ServiceMethods {
  readonly #service: Record<string, unknown>;
  readonly #methods = new Map<string, (...args: unknown[]) => unknown>();

  constructor(service: object) {
    this.#service = service as Record<string, unknown>;
  }

  /** The name last asked for: the same text comes in a fresh string with every request. */
  #lastName = '';

  /** The remembered method `attribute` names, if it still stands under that name; else undefined. */
  get(attribute: string): ((...args: unknown[]) => unknown) | undefined {
    // Looked up by the string kept from the last request when the text is the same: V8 has already
    // internalized that one, so the three lookups below need not hash and intern a new string each.
    if (attribute === this.#lastName) attribute = this.#lastName;
    else this.#lastName = attribute;
    const fn = this.#methods.get(attribute);
    if (fn === undefined) return undefined;
    if (!Object.hasOwn(this.#service, attribute) && this.#service[attribute] === fn) return fn;
    this.#methods.delete(attribute);
    return undefined;
  }

  /**
   * Remembers `fn`, which {@link resolveAttribute} gave as the method `attribute` names, when it is what
   * the name reads on a prototype (not an own member, not the shutdown hook's Python name).
   */
  remember(attribute: string, fn: (...args: unknown[]) => unknown): void {
    if (Object.hasOwn(this.#service, attribute) || this.#service[attribute] !== fn) return;
    // A Service answers a bounded set of names; a client cannot grow this past the methods it has.
    this.#methods.set(attribute, fn);
  }
}

/**
 * The `attributes` of the Service's identity: every reachable member that is not ignored, methods as
 * signature text (`'(x, y=1, *args)'`), other members as their values (if JSON can carry them).
 */
export function describeAttributes(
  service: object,
  base: object,
  ignored: ReadonlySet<string>,
  serializable: (value: unknown) => boolean,
): Record<string, unknown> {
  const names = new Set<string>();
  for (const name of Object.keys(service)) names.add(name);
  for (
    let proto = Object.getPrototypeOf(service);
    proto !== null && proto !== base;
    proto = Object.getPrototypeOf(proto)
  ) {
    for (const name of Object.getOwnPropertyNames(proto)) names.add(name);
  }
  const attributes: Record<string, unknown> = {};
  for (const name of [...names].sort()) {
    const wire = name === SHUTDOWN_HOOK ? SHUTDOWN_SERVICE : name;
    if (name === SHUTDOWN_SERVICE || ignored.has(name) || ignored.has(wire)) continue;
    let resolved: ResolvedAttribute;
    try {
      resolved = resolveAttribute(service, base, wire, ignored);
    } catch {
      continue; // a getter that throws is left out, as msl-network does
    }
    if (resolved.kind === 'method') attributes[wire] = formatSignature(resolved.fn);
    else if (resolved.kind === 'value' && serializable(resolved.value)) attributes[wire] = resolved.value;
  }
  return attributes;
}

/**
 * A function's parameters in the style of Python's `str(inspect.signature(f))`: `(a, b=2, *rest)`.
 * TypeScript types are gone at run time, so only names and defaults appear.
 */
export function formatSignature(fn: (...args: never[]) => unknown): string {
  const source = Function.prototype.toString.call(fn);
  const params = parameterText(source);
  if (params === undefined) return '(*args)';
  const parts = splitTopLevel(params)
    .map((p) => p.trim())
    .filter((p) => p.length > 0)
    .map((p) => {
      if (p.startsWith('...')) return `*${p.slice(3).trim()}`;
      const eq = topLevelIndexOf(p, '=');
      return eq < 0 ? p : `${p.slice(0, eq).trim()}=${p.slice(eq + 1).trim()}`;
    });
  return `(${parts.join(', ')})`;
}

// The text between the parentheses of the parameter list (or the single bare parameter of an arrow).
function parameterText(source: string): string | undefined {
  if (source.includes('[native code]')) return undefined;
  const open = source.indexOf('(');
  const arrow = source.indexOf('=>');
  if (arrow >= 0 && (open < 0 || arrow < open)) {
    // `x => …` or `async x => …`
    return source
      .slice(0, arrow)
      .replace(/^async\s+/, '')
      .trim();
  }
  if (open < 0) return undefined;
  let depth = 0;
  for (let i = open; i < source.length; i++) {
    const c = source[i];
    if (c === '"' || c === "'" || c === '`') {
      i = skipString(source, i);
      continue;
    }
    if (c === '(' || c === '[' || c === '{') depth++;
    else if (c === ')' || c === ']' || c === '}') {
      depth--;
      if (depth === 0) return source.slice(open + 1, i);
    }
  }
  return undefined;
}

function skipString(text: string, start: number): number {
  const quote = text[start];
  for (let i = start + 1; i < text.length; i++) {
    if (text[i] === '\\') i++;
    else if (text[i] === quote) return i;
  }
  return text.length;
}

function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let last = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"' || c === "'" || c === '`') i = skipString(text, i);
    else if (c === '(' || c === '[' || c === '{') depth++;
    else if (c === ')' || c === ']' || c === '}') depth--;
    else if (c === ',' && depth === 0) {
      parts.push(text.slice(last, i));
      last = i + 1;
    }
  }
  parts.push(text.slice(last));
  return parts;
}

function topLevelIndexOf(text: string, char: string): number {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"' || c === "'" || c === '`') i = skipString(text, i);
    else if (c === '(' || c === '[' || c === '{') depth++;
    else if (c === ')' || c === ']' || c === '}') depth--;
    else if (c === char && depth === 0 && text[i + 1] !== '>' && text[i + 1] !== '=') return i;
  }
  return -1;
}
