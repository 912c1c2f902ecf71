/**
 * The entry point of the 32-bit server: runs `server32-program` (see there) from `server32-bundle`, the
 * module `farcall/loadlib` is under the condition `farcall-server32` that Client64 starts it with.
 *
 * Runs on Debian's i386 Node 18: Node 18 APIs only.
 * @module
 */
import { runServer32Program } from './server32-bundle.js';

await runServer32Program();
