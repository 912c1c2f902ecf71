/**
 * Member names no policy and no {@link expose} list lets a peer reach: they lead to prototypes and
 * constructors, and from there to code, or (the legacy accessors) read and redefine any property of any
 * object, `Object.prototype` included.
 * @module
 */

export const FORBIDDEN_NAMES: ReadonlySet<string> = new Set([
  '__proto__',
  'constructor',
  'prototype',
  '__lookupGetter__',
  '__lookupSetter__',
  '__defineGetter__',
  '__defineSetter__',
]);
