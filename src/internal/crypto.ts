/**
 * `node:crypto`, loaded when first needed, and random bytes that do not need it.
 *
 * Why: every rpc connection needs random ids, but only a connection with an `authKey` needs HMACs. In
 * the 32-bit server's Node.js 18 (Debian's build has no code cache and no snapshot), loading
 * `node:crypto` compiles 16 internal modules at every start, a noticeable part of a Client64's start
 * over the private pipe, which uses no key. `/dev/urandom` is the kernel's cryptographically secure
 * generator, the one OpenSSL itself is seeded from; where it cannot be read (Windows), `node:crypto`'s
 * `randomBytes` is used.
 * @module
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { createRequire } from 'node:module';

type NodeCrypto = typeof import('node:crypto');

let loaded: NodeCrypto | undefined;

/** `node:crypto`, loaded on the first call. */
export function nodeCrypto(): NodeCrypto {
  loaded ??= createRequire(import.meta.url)('node:crypto') as NodeCrypto;
  return loaded;
}

/** Whether `/dev/urandom` could not be read once: then `node:crypto` serves every later call. */
let noUrandom = process.platform === 'win32';

/**
 * `size` cryptographically secure random bytes, like `crypto.randomBytes(size)`.
 *
 * @example
 * ```ts
 * const id = randomBytes(9).toString('base64url');
 * ```
 */
export function randomBytes(size: number): Buffer {
  if (!noUrandom) {
    try {
      return readUrandom(size);
    } catch {
      noUrandom = true;
    }
  }
  return nodeCrypto().randomBytes(size);
}

function readUrandom(size: number): Buffer {
  const bytes = Buffer.allocUnsafe(size);
  const fd = openSync('/dev/urandom', 'r');
  try {
    let filled = 0;
    while (filled < size) {
      const read = readSync(fd, bytes, filled, size - filled, null);
      if (read <= 0) throw new Error('/dev/urandom ended');
      filled += read;
    }
  } finally {
    closeSync(fd);
  }
  return bytes;
}
