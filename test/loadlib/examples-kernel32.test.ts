// examples/loadlib/kernel32: Windows' own kernel32.dll as 'windll' (__stdcall), its GetLocalTime and
// GetSystemTime filling a SYSTEMTIME through a pointer, in the 32-bit Windows server under Wine
// (msl-loadlib's kernel32 example and its test_module32_as_path). Windows only: no Linux mode.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kernel32Client } from '../../examples/loadlib/kernel32/kernel32-client.js';
import { WINE_HOOK_MS, WINE_MODE } from './helpers.js';

/** The clocks of this process and of Wine's kernel32 are the same Linux clock; a call takes what it takes. */
const SLACK_MS = 1000;

describe(`examples/loadlib/kernel32 in ${WINE_MODE[0]}`, () => {
  let kernel32: Kernel32Client;
  beforeAll(async () => {
    kernel32 = new Kernel32Client(WINE_MODE[1]);
    await kernel32.ready;
  }, WINE_HOOK_MS);
  afterAll(async () => {
    await kernel32?.shutdownServer32();
  });

  it("loads Windows' own 32-bit kernel32.dll by its bare name, as 'windll'", async () => {
    expect(kernel32.serverRuntime?.arch).toBe('ia32');
    expect(kernel32.lib32Path?.toLowerCase()).toMatch(/^c:\\windows\\(system32|syswow64)\\kernel32\.dll$/);
    expect(await kernel32.request32('libtype')).toBe('windll');
  });

  it('getSystemTime is now, in UTC', async () => {
    const before = Date.now();
    const time = await kernel32.getSystemTime();
    const after = Date.now();
    expect(time).toBeInstanceOf(Date);
    expect(time.getTime()).toBeGreaterThanOrEqual(before - SLACK_MS);
    expect(time.getTime()).toBeLessThanOrEqual(after + SLACK_MS);
  });

  it('getLocalTime is the same instant, read in the time zone of the machine', async () => {
    const before = Date.now();
    const time = await kernel32.getLocalTime();
    const after = Date.now();
    expect(time.getTime()).toBeGreaterThanOrEqual(before - SLACK_MS);
    expect(time.getTime()).toBeLessThanOrEqual(after + SLACK_MS);
  });

  it('localTimeFields is the SYSTEMTIME, every field in its range', async () => {
    const now = new Date();
    const fields = await kernel32.localTimeFields();
    expect(Object.keys(fields)).toEqual([
      'wYear',
      'wMonth',
      'wDayOfWeek',
      'wDay',
      'wHour',
      'wMinute',
      'wSecond',
      'wMilliseconds',
    ]);
    expect([now.getFullYear() - 1, now.getFullYear(), now.getFullYear() + 1]).toContain(fields.wYear);
    expect(fields.wMonth).toBeGreaterThanOrEqual(1);
    expect(fields.wMonth).toBeLessThanOrEqual(12);
    expect(fields.wDayOfWeek).toBeLessThanOrEqual(6);
    expect(fields.wDay).toBeGreaterThanOrEqual(1);
    expect(fields.wDay).toBeLessThanOrEqual(31);
    expect(fields.wHour).toBeLessThan(24);
    expect(fields.wMinute).toBeLessThan(60);
    expect(fields.wSecond).toBeLessThan(62);
    expect(fields.wMilliseconds).toBeLessThan(1000);
    // The day of the week agrees with the date it comes with.
    expect(new Date(fields.wYear, fields.wMonth - 1, fields.wDay).getDay()).toBe(fields.wDayOfWeek);
  });
});
