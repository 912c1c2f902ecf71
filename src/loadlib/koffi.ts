/**
 * farcall's own koffi, re-exported: a server module that imports koffi from here uses the very build
 * `Server32` loads its library with, so two koffi versions never meet in one process (koffi refuses
 * them with "Mismatched native Koffi modules").
 * @module
 */
import koffiModule from 'koffi';

/**
 * The koffi farcall uses (`import { koffi } from 'farcall/loadlib'`), for the types of a server module:
 * `koffi.struct(...)`, `koffi.out(...)`, `koffi.array(...)`.
 *
 * @example
 * ```ts
 * import { koffi, Server32 } from 'farcall/loadlib';
 *
 * const Point = koffi.struct('Point', { x: 'double', y: 'double' });
 * ```
 */
export const koffi: typeof koffiModule = koffiModule;
