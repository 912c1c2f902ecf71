/**
 * What `farcall/loadlib` is inside the 32-bit server (the export condition `farcall-server32`, which
 * Client64 starts the server with): all of `farcall/loadlib`, and the server program. `npm run build`
 * bundles it into one file (`scripts/bundle-server32.mjs`); unbundled, it works the same, only slower.
 * @module
 */
export * from './index.js';
export { runServer32Program } from './server32-program.js';
