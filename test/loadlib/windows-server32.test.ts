// Server32 in 32-bit Windows Node.js under Wine, driven from this (64-bit Linux) Node.js:
// new Client64(module, { runtime: 'wine' }). The DLLs are farcall's own, built with MinGW
// (scripts/build-windows-dlls.sh). Wine starts slowly: one server serves every test that can share it.
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';

import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectionClosedError, ResponseTimeoutError, Server32Error } from '../../src/errors.js';
import { Client64 } from '../../src/loadlib/client64.js';
import { childPids, fixture, server32TempDirs, waitUntilGone } from './helpers.js';
import {
  buildWindowsDlls,
  dll,
  startError,
  WINDOWS_DLLS,
  WINE_START_MS,
  wineClient,
} from './windows-helpers.js';

beforeAll(() => buildWindowsDlls(), 120_000);

describe('a 32-bit Windows server under Wine (one server, decorated __stdcall names)', () => {
  let client: Client64;
  beforeAll(async () => {
    client = wineClient({ serverOptions: { answer: 42, when: new Date(0) } });
    await client.ready;
  }, 90_000);
  afterAll(async () => {
    await client?.shutdownServer32();
  });

  it('runs in 32-bit Windows Node.js 22 and is reached over TCP on loopback', async () => {
    expect(client.serverRuntime).toEqual({ node: expect.stringMatching(/^22\./), arch: 'ia32' });
    expect(await client.request32('platform')).toEqual({
      platform: 'win32',
      arch: 'ia32',
      node: expect.stringMatching(/^22\./),
    });
    expect(client.transport).toBe('tcp');
    expect(client.address).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/);
    // The library path as Windows sees it: Wine's Z: drive is the Linux root.
    expect(client.lib32Path).toBe(`Z:${dll('farcall_example-32.dll').replaceAll('/', '\\')}`);
  });

  it('passes the options to the constructor with their types intact', async () => {
    const options = (await client.request32('echo', 'x').then(() => client.request32('options'))) as {
      answer: number;
      when: Date;
    };
    expect(options.answer).toBe(42);
    expect(options.when).toEqual(new Date(0));
  });

  it("calls a cdecl function of a 'windll' library when the prototype says __cdecl", async () => {
    expect(await client.request32('add', 2, 3)).toBe(5);
  });

  it('calls a __stdcall function by its plain name although the DLL exports it decorated (add_stdcall@8)', async () => {
    expect(await client.request32('call', 'int add_stdcall(int a, int b)', [4, 5])).toBe(9);
  });

  it('calls it by its decorated name in the classic form', async () => {
    expect(await client.request32('callClassic', 'add_stdcall@8', 'int', ['int', 'int'], [20, 22])).toBe(42);
  });

  it('says which decorated names it tried when a function is in no form in the DLL', async () => {
    const error = await client.request32('call', 'int no_such_function(int a, double b)', [1, 2]).then(
      () => undefined,
      (e: unknown) => e as Server32Error,
    );
    expect(error).toBeInstanceOf(Server32Error);
    expect(error?.message).toContain("Cannot find the function 'no_such_function'");
    expect(error?.message).toContain("'no_such_function@12', '_no_such_function@12'");
  });

  it("calls kernel32's GetLocalTime through windll into a SYSTEMTIME struct (msl-loadlib's kernel32 example)", async () => {
    const before = new Date();
    const time = (await client.request32('localTime')) as Record<string, number>;
    const after = new Date();
    expect([before.getFullYear(), after.getFullYear()]).toContain(time.wYear);
    expect(time.wMonth).toBeGreaterThanOrEqual(1);
    expect(time.wMonth).toBeLessThanOrEqual(12);
    expect(time.wDay).toBeGreaterThanOrEqual(1);
    expect(time.wHour).toBeLessThan(24);
  });

  it('runs slow native calls concurrently (koffi async on the thread pool)', async () => {
    const results = await Promise.all([100, 100, 100, 100].map((ms) => client.request32('sleepAsync', ms)));
    expect(results).toEqual([100, 100, 100, 100]);
    // The server keeps serving in between.
    expect(await client.request32('add', 1, 1)).toBe(2);
  });

  it('a __stdcall function declared __cdecl still returns its result, and the server keeps serving', async () => {
    // koffi restores the stack pointer after every call, so the callee popping its arguments does no harm.
    for (let i = 0; i < 3; i++) {
      expect(await client.request32('call', 'int __cdecl add_stdcall(int a, int b)', [1, 2])).toBe(3);
    }
    expect(await client.request32('add', 2, 2)).toBe(4);
    // And the other way round: a cdecl function declared __stdcall.
    expect(await client.request32('call', 'int __stdcall add(int a, int b)', [5, 6])).toBe(11);
    expect(await client.request32('add', 2, 2)).toBe(4);
  });
});

describe('Windows DLLs under Wine: names, search paths, Unicode paths, HRESULTs', () => {
  let unicodeDir: string;
  beforeAll(() => {
    unicodeDir = mkdtempSync(join(tmpdir(), 'farcall-wine-ünïcødé-路径-'));
  });
  afterAll(() => {
    rmSync(unicodeDir, { recursive: true, force: true });
  });

  it('a DLL linked with --kill-at exports add_stdcall undecorated', async () => {
    await using client = wineClient({ serverOptions: { lib: dll('farcall_example_killat-32.dll') } });
    expect(await client.request32('call', 'int add_stdcall(int a, int b)', [4, 5])).toBe(9);
  });

  it('finds a DLL on appendEnvironPath and its dependency on addDllDirectory (a second folder)', async () => {
    await using client = wineClient({
      serverOptions: { lib: 'farcall_uses_dep-32.dll' },
      appendEnvironPath: [WINDOWS_DLLS],
      addDllDirectory: [join(WINDOWS_DLLS, 'deps')],
    });
    expect(await client.request32('call', 'int __cdecl uses_dep_answer(void)', [])).toBe(42);
  });

  it('loads a DLL from a Unicode path, and the DLL sees that path', async () => {
    const folder = join(unicodeDir, 'Grüße-データ');
    mkdirSync(folder);
    const path = join(folder, 'farcall_winapi_ü-32.dll');
    copyFileSync(dll('farcall_winapi-32.dll'), path);
    await using client = wineClient({ serverOptions: { lib: path } });
    await client.ready;
    const windowsPath = `Z:${path.replaceAll('/', '\\')}`;
    expect(client.lib32Path).toBe(windowsPath);
    expect(await client.request32('ownPath')).toBe(windowsPath);
    expect(await client.request32('call', 'int local_year(void)', [])).toBe(new Date().getFullYear());
  });

  it('starts a server module from a Unicode path, by path and by name on appendSysPath', async () => {
    // Inside farcall's folder (native/build, not tracked), so that the module's `farcall/loadlib` resolves.
    const folder = mkdtempSync(join(WINDOWS_DLLS, '..', 'farcall-wine-モジュール-ü-'));
    try {
      const module32 = join(folder, 'sërver-ü.mjs');
      copyFileSync(fixture('windows-server.mjs'), module32);
      await using byPath = new Client64(module32, { runtime: 'wine', timeout: WINE_START_MS });
      expect(await byPath.request32('add', 1, 2)).toBe(3);
      await using byName = new Client64('sërver-ü', {
        runtime: 'wine',
        timeout: WINE_START_MS,
        appendSysPath: [folder],
      });
      expect(await byName.request32('add', 2, 3)).toBe(5);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });

  it("'oledll': S_OK and S_FALSE are results, E_FAIL and E_ACCESSDENIED become errors with code and message", async () => {
    await using client = wineClient({
      serverOptions: { lib: dll('farcall_hresult-32.dll'), libtype: 'oledll' },
    });
    expect(await client.request32('hrDouble', 21)).toBe(42);
    expect(await client.request32('call', 'int hr_echo(int code)', [1])).toBe(1);
    const fail = await client.request32('call', 'int hr_fail(void)', []).then(
      () => undefined,
      (e: unknown) => e as Server32Error,
    );
    expect(fail).toBeInstanceOf(Server32Error);
    expect(fail?.remoteName).toBe('HResultError');
    expect(fail?.remoteCode).toBe('ERR_FARCALL_HRESULT');
    expect(fail?.message).toMatch(/hr_fail\(\) failed with HRESULT 0x80004005 \(E_FAIL\): \S/);
    const denied = await client
      .request32('call', 'int hr_echo(int code)', [0x80070005 | 0])
      .catch((e: Error) => e);
    expect(String((denied as Error).message)).toContain('HRESULT 0x80070005 (E_ACCESSDENIED)');
    const invalid = await client.request32('hrDouble', -1).catch((e: Error) => e);
    expect(String((invalid as Error).message)).toContain('HRESULT 0x80070057 (E_INVALIDARG)');
    // The server keeps serving after each.
    expect(await client.request32('hrDouble', 2)).toBe(4);
  });
});

describe('bad input to a Windows server under Wine', () => {
  it('a 64-bit DLL: the error names the bitness its PE header gives', async () => {
    const error = await startError(wineClient({ serverOptions: { lib: dll('farcall_example-64.dll') } }));
    expect(error.message).toContain('this is a 64-bit library and this Node.js is 32-bit');
    expect(error.message).toContain('its PE header says x64, 64-bit');
  });

  it('a DLL whose dependency is missing: the error names the dependency', async () => {
    const error = await startError(wineClient({ serverOptions: { lib: dll('farcall_uses_dep-32.dll') } }));
    expect(error.message).toContain('it depends on farcall_dep-32.dll, which was not found');
    expect(error.message).toContain('addDllDirectory');
  });

  it('a DLL that is not there: the error lists where it looked', async () => {
    const error = await startError(wineClient({ serverOptions: { lib: 'farcall_no_such_library.dll' } }));
    expect(error.message).toContain('Cannot load farcall_no_such_library.dll: the file was not found');
  });

  it("a crash in the DLL: the call fails with the exit and Wine's report, and leaves no process or file", async () => {
    const before = server32TempDirs();
    const client = wineClient();
    await client.ready;
    const pid = childPids().at(-1);
    const error = await client.request32('crash').catch((e: unknown) => e as Error);
    expect(error).toBeInstanceOf(ConnectionClosedError);
    expect((error as Error).message).toMatch(/the 32-bit server exited with code \d+/);
    expect((error as Error).message).toContain('Unhandled page fault');
    await client.shutdownServer32();
    if (pid !== undefined) expect(await waitUntilGone(pid, 10_000)).toBe(true);
    expect(server32TempDirs().filter((d) => !before.includes(d))).toEqual([]);
  });
});

describe('the life of a Windows server under Wine', () => {
  it('a call past rpcTimeout rejects with ResponseTimeoutError and the client keeps serving; shutdown leaves nothing', async () => {
    const before = server32TempDirs();
    const client = wineClient({ rpcTimeout: 500 });
    await client.ready;
    const pids = childPids();
    // On the thread pool (fn.async): the server's event loop stays free to answer the next call.
    await expect(client.request32('sleepAsync', 3000)).rejects.toBeInstanceOf(ResponseTimeoutError);
    expect(await client.request32('add', 1, 1)).toBe(2);
    const output = await client.shutdownServer32();
    expect(output).toEqual({ stdout: '', stderr: '' });
    for (const pid of pids) expect(await waitUntilGone(pid, 10_000)).toBe(true);
    // Off Windows the output files are unlinked as soon as the server has them open.
    expect(server32TempDirs().filter((d) => !before.includes(d))).toEqual([]);
    await expect(client.request32('add', 1, 1)).rejects.toBeInstanceOf(ConnectionClosedError);
  });

  it('the server prints on stdout and stderr: shutdownServer32 returns it (files, not pipes, under Wine)', async () => {
    const client = wineClient();
    await client.ready;
    await client.request32('print', 'to stdout', 'to stderr');
    const output = await client.shutdownServer32();
    expect(output.stdout).toContain('to stdout');
    expect(output.stderr).toContain('to stderr');
  });

  it('when the 64-bit program is killed (SIGKILL), its Wine server exits too, and no file is left', async () => {
    const before = server32TempDirs();
    const driver = spawn(process.execPath, [fixture('wine-client-driver.mjs')], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`the driver did not start its server: ${out}`)),
        90_000,
      );
      driver.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        out += chunk;
        if (out.includes('ready 3')) {
          clearTimeout(timer);
          resolve();
        }
      });
      driver.stderr.setEncoding('utf8').on('data', (chunk: string) => {
        out += chunk;
      });
    });
    const servers = childPids(driver.pid);
    expect(servers.length).toBeGreaterThan(0);
    expect(server32TempDirs().filter((d) => !before.includes(d))).toEqual([]);
    driver.kill('SIGKILL');
    for (const pid of servers) expect(await waitUntilGone(pid, 15_000)).toBe(true);
  }, 120_000);
});
