// The 64-bit side of the kernel32 example: asks kernel32-server.mjs, in the 32-bit Windows server, for
// the time (msl-loadlib's Kernel64).
import { Client64, type Client64Options } from 'farcall/loadlib';

/** Windows' SYSTEMTIME: calendar fields, to the millisecond. */
export interface SystemTime {
  wYear: number;
  /** 1 (January) to 12. */
  wMonth: number;
  /** 0 (Sunday) to 6. */
  wDayOfWeek: number;
  wDay: number;
  wHour: number;
  wMinute: number;
  wSecond: number;
  wMilliseconds: number;
}

/**
 * Calls Windows' kernel32.dll (`__stdcall`, loaded as `'windll'`) in a 32-bit Windows server: on Windows,
 * or from Linux under Wine with `{ runtime: 'wine' }`.
 *
 * @example
 * ```ts
 * import { Kernel32Client } from './kernel32-client.js';
 *
 * await using kernel32 = new Kernel32Client({ runtime: 'wine' }); // on Windows: new Kernel32Client()
 * await kernel32.getLocalTime(); // 2026-12-01T13:40:28.123Z, the Date of kernel32's GetLocalTime
 * ```
 */
export class Kernel32Client extends Client64 {
  /**
   * Starts the 32-bit server on kernel32-server.mjs (the module next to this one).
   * @param options - Client64 options, e.g. `{ runtime: 'wine' }` on Linux
   */
  constructor(options: Client64Options = {}) {
    super(new URL('./kernel32-server.mjs', import.meta.url), options);
  }

  /**
   * `GetLocalTime`: the machine's wall-clock time, as a Date (the same instant as {@link Kernel32Client.getSystemTime}).
   * @returns the current date and time, to the millisecond
   * @example
   * ```ts
   * (await kernel32.getLocalTime()).getFullYear(); // 2026
   * ```
   */
  getLocalTime(): Promise<Date> {
    return this.request32('get_local_time');
  }

  /**
   * `GetSystemTime`: the time in UTC, as a Date.
   * @returns the current date and time, to the millisecond
   * @example
   * ```ts
   * (await kernel32.getSystemTime()).toISOString(); // '2026-12-01T13:40:28.123Z'
   * ```
   */
  getSystemTime(): Promise<Date> {
    return this.request32('get_system_time');
  }

  /**
   * `GetLocalTime`'s SYSTEMTIME, field by field.
   * @returns the fields, e.g. `{ wYear: 2026, wMonth: 12, wDayOfWeek: 2, wDay: 1, … }`
   * @example
   * ```ts
   * const { wDayOfWeek } = await kernel32.localTimeFields(); // 0 is Sunday
   * ```
   */
  localTimeFields(): Promise<SystemTime> {
    return this.request32('local_time_fields');
  }
}
