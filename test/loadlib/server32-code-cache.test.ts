// The 32-bit server's V8 code cache (src/loadlib/server32-code-cache.ts): written once per bundle, Node.js
// version and arch into a private folder, used at the next start, and a rejected, corrupt or truncated
// cache is ignored and rewritten; a folder others can write to is not used. The speed-up itself is
// measured in bench/loadlib-lifecycle.bench.mjs.
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync as readdir,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Client64 } from '../../src/loadlib/client64.js';
import { fixture } from './helpers.js';

interface CodeCache {
  state: 'accepted' | 'rejected' | 'absent' | 'off';
  file: string | undefined;
}

let work: string;
let saved: string | undefined;

beforeEach(() => {
  work = mkdtempSync(join(tmpdir(), 'farcall-code-cache-'));
  saved = process.env.FARCALL_CACHE_DIR;
});

afterEach(() => {
  if (saved === undefined) delete process.env.FARCALL_CACHE_DIR;
  else process.env.FARCALL_CACHE_DIR = saved;
  rmSync(work, { recursive: true, force: true });
});

/** Starts a server with the cache in `dir`, makes one call, and says what its cache did. */
async function start(dir: string): Promise<CodeCache> {
  process.env.FARCALL_CACHE_DIR = dir;
  await using client = new Client64(fixture('start-server.mjs'));
  const cache = (await client.request32('codeCache')) as CodeCache;
  // The server works whatever its cache did.
  expect(await client.request32('sharesTheServerProgram')).toBe(true);
  // The cache is written just after the start reply: wait for it (by polling, not by a fixed time).
  if (cache.file !== undefined && cache.state !== 'accepted') await waitForFile(cache.file);
  return cache;
}

async function waitForFile(file: string): Promise<void> {
  const end = Date.now() + 20_000;
  while (!existsSync(file) && Date.now() < end) await new Promise((resolve) => setTimeout(resolve, 20));
}

describe("the 32-bit server's code cache", () => {
  it('is written at the first start (folder 0700, file 0600, keyed by bundle, Node.js version, arch and flags) and used at the next', async () => {
    const dir = join(work, 'not-yet', 'cache');
    const first = await start(dir);
    expect(first.state).toBe('absent');
    expect(first.file).toMatch(/[/\\]server32-[0-9a-f]{16}-v\d+\.\d+\.\d+-ia32-[0-9a-f]{8}\.v8cache$/);
    expect(dirname(first.file as string)).toBe(dir);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(statSync(first.file as string).mode & 0o777).toBe(0o600);
    const bytes = readFileSync(first.file as string);
    expect(bytes.length).toBeGreaterThan(1000);

    const second = await start(dir);
    expect(second).toEqual({ state: 'accepted', file: first.file });
    // An accepted cache is not written again.
    expect(readFileSync(first.file as string).equals(bytes)).toBe(true);
  });

  it.each([
    ['garbage', (_real: Buffer) => Buffer.from('not a V8 code cache at all'.repeat(100))],
    ['a truncated cache', (real: Buffer) => real.subarray(0, Math.floor(real.length / 2))],
    [
      'a cache with its payload overwritten',
      (real: Buffer) => Buffer.concat([real.subarray(0, 64), Buffer.alloc(real.length - 64, 0xab)]),
    ],
  ])('%s is rejected, ignored and rewritten', async (_name, spoil) => {
    const dir = join(work, 'cache');
    const { file } = await start(dir);
    const real = readFileSync(file as string);
    writeFileSync(file as string, spoil(real));

    const spoilt = await start(dir);
    expect(spoilt.state).toBe('rejected');
    // Rewritten: the next start uses it again.
    expect((await start(dir)).state).toBe('accepted');
  });

  it('a folder that others can write to is not used (nothing is read or written there)', async () => {
    const dir = join(work, 'open');
    mkdirSync(dir);
    chmodSync(dir, 0o777);
    const cache = await start(dir);
    expect(cache).toEqual({ state: 'off', file: undefined });
    expect(existsSync(dir) && readdir(dir)).toEqual([]);
  });

  it('a symlink in place of the folder is not used', async () => {
    const real = join(work, 'real');
    mkdirSync(real, { mode: 0o700 });
    const link = join(work, 'link');
    symlinkSync(real, link);
    expect(await start(link)).toEqual({ state: 'off', file: undefined });
    expect(readdir(real)).toEqual([]);
  });

  it('other Node.js flags (FARCALL_SERVER32_NODE_OPTIONS) get a cache of their own: the two do not rewrite each other', async () => {
    const dir = join(work, 'cache');
    const plain = await start(dir);
    const savedOptions = process.env.FARCALL_SERVER32_NODE_OPTIONS;
    process.env.FARCALL_SERVER32_NODE_OPTIONS = '--stack-trace-limit=20';
    try {
      const flagged = await start(dir);
      expect(flagged.state).toBe('absent');
      expect(flagged.file).not.toBe(plain.file);
      expect((await start(dir)).state).toBe('accepted');
    } finally {
      if (savedOptions === undefined) delete process.env.FARCALL_SERVER32_NODE_OPTIONS;
      else process.env.FARCALL_SERVER32_NODE_OPTIONS = savedOptions;
    }
    expect((await start(dir)).state).toBe('accepted');
  });

  it('FARCALL_CACHE_DIR=off turns it off', async () => {
    expect(await start('off')).toEqual({ state: 'off', file: undefined });
  });
});
