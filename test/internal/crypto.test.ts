// Random bytes without node:crypto (from /dev/urandom), and node:crypto loaded only when asked.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { nodeCrypto, randomBytes } from '../../src/internal/crypto.js';

describe('internal/crypto', () => {
  it('gives the number of bytes asked for, different every time', () => {
    for (const size of [0, 1, 7, 9, 1792, 100_000]) expect(randomBytes(size).length).toBe(size);
    const seen = new Set(Array.from({ length: 1000 }, () => randomBytes(9).toString('hex')));
    expect(seen.size).toBe(1000);
    // Not all zero, not one value repeated: each of the 256 byte values shows up in 64 KiB.
    expect(new Set(randomBytes(65_536)).size).toBe(256);
  });

  it('is node:crypto itself when asked for', async () => {
    const crypto = await import('node:crypto');
    expect(nodeCrypto().createHmac).toBe(crypto.createHmac);
    expect(nodeCrypto().timingSafeEqual).toBe(crypto.timingSafeEqual);
  });

  it('does not load node:crypto to make random bytes (on Linux)', () => {
    // A fresh process: the built module, then the list of the built-in modules it has loaded.
    const built = new URL('../../dist/internal/crypto.js', import.meta.url).href;
    const script =
      `const { randomBytes } = await import(${JSON.stringify(built)}); randomBytes(16);` +
      "console.log(process.moduleLoadList.includes('NativeModule crypto'))";
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run.stdout.trim()).toBe(process.platform === 'win32' ? 'true' : 'false');
  });
});
