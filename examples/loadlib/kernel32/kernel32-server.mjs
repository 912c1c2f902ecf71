// The 32-bit side of the kernel32 example: a Server32 that loads Windows' own kernel32.dll as 'windll'
// (__stdcall, the Win32 convention) and offers its clock (msl-loadlib's Kernel32 example). Windows only:
// on Windows, or from Linux under Wine (Client64 option `runtime: 'wine'`).
//
// This module runs in the 32-bit Windows Node.js (node-win-x86, 22): plain JavaScript, Node 18 syntax.
//
// To wrap another system DLL: copy this folder, change LIBRARY below, and declare its functions.
import { koffi, Server32 } from 'farcall/loadlib';

/**
 * kernel32.dll by its bare name: Windows finds its own copy, the 32-bit one for a 32-bit process
 * (C:\Windows\SysWOW64 on a 64-bit Windows, which a 32-bit process sees as C:\Windows\System32).
 */
const LIBRARY = 'kernel32.dll';

// SYSTEMTIME, eight WORDs (uint16): the calendar fields of a time, to the millisecond. Declared by name,
// so that the prototypes below can say `SYSTEMTIME *`.
koffi.struct('SYSTEMTIME', {
  wYear: 'uint16',
  wMonth: 'uint16',
  wDayOfWeek: 'uint16',
  wDay: 'uint16',
  wHour: 'uint16',
  wMinute: 'uint16',
  wSecond: 'uint16',
  wMilliseconds: 'uint16',
});

export class Kernel32Server extends Server32 {
  // Private (#): the client reaches the methods below, not these koffi functions.
  #getLocalTime;
  #getSystemTime;

  /** Client64 constructs the class with (host, port, options): pass host and port on to Server32. */
  constructor(host, port) {
    super(LIBRARY, 'windll', host, port);
    // 'windll' makes each function __stdcall; _Out_: kernel32 fills the struct, koffi copies it out.
    this.#getLocalTime = this.library.func('void GetLocalTime(_Out_ SYSTEMTIME *lpSystemTime)');
    this.#getSystemTime = this.library.func('void GetSystemTime(_Out_ SYSTEMTIME *lpSystemTime)');
  }

  /** GetLocalTime: the wall-clock time of the machine's time zone, as a Date. */
  get_local_time() {
    const t = this.#call(this.#getLocalTime);
    // A Date from local calendar fields reads them in this process's time zone: the machine's.
    return new Date(t.wYear, t.wMonth - 1, t.wDay, t.wHour, t.wMinute, t.wSecond, t.wMilliseconds);
  }

  /** GetSystemTime: the time in UTC, as a Date. */
  get_system_time() {
    const t = this.#call(this.#getSystemTime);
    return new Date(Date.UTC(t.wYear, t.wMonth - 1, t.wDay, t.wHour, t.wMinute, t.wSecond, t.wMilliseconds));
  }

  /** GetLocalTime's SYSTEMTIME as it is, field by field (wDayOfWeek: 0 is Sunday). */
  local_time_fields() {
    return this.#call(this.#getLocalTime);
  }

  #call(fn) {
    const time = {};
    fn(time);
    return time;
  }
}
