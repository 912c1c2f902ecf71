/**
 * The `'oledll'` libtype (msl-loadlib's `OleDLL`, ctypes' `oledll`): `__stdcall` functions that return an
 * HRESULT, where a failure code (the sign bit set) becomes an {@link HResultError} with the code and its
 * text instead of a number the caller must remember to check.
 *
 * Runs inside the 32-bit server too: Node 18 APIs only.
 * @module
 */
import * as koffi from 'koffi';
import { HResultError } from '../errors.js';

/** The names and text of common HRESULTs: the name for every message, the text where the system has none. */
const KNOWN_HRESULTS: Record<number, [name: string, text: string]> = {
  2147500033: ['E_NOTIMPL', 'Not implemented'],
  2147500034: ['E_NOINTERFACE', 'No such interface supported'],
  2147500035: ['E_POINTER', 'Invalid pointer'],
  2147500036: ['E_ABORT', 'Operation aborted'],
  2147500037: ['E_FAIL', 'Unspecified error'],
  2147549183: ['E_UNEXPECTED', 'Catastrophic failure'],
  2147942405: ['E_ACCESSDENIED', 'Access is denied'],
  2147942406: ['E_HANDLE', 'The handle is invalid'],
  2147942414: ['E_OUTOFMEMORY', 'Not enough memory resources are available to complete this operation'],
  2147942487: ['E_INVALIDARG', 'The parameter is incorrect'],
};

type FormatMessage = (
  flags: number,
  source: null,
  id: number,
  lang: number,
  buf: Buffer,
  size: number,
  args: null,
) => number;
let formatMessage: FormatMessage | null | undefined;

/**
 * The system's text for an HRESULT (`FormatMessageW` on Windows), else farcall's own for the common ones.
 *
 * @example
 * ```ts
 * hresultMessage(0x80004005); // 'Unspecified error'
 * ```
 */
export function hresultMessage(hresult: number): string {
  const code = hresult >>> 0;
  const system = systemMessage(code);
  if (system !== undefined && system !== '') return system;
  return KNOWN_HRESULTS[code]?.[1] ?? 'no description of this code is known';
}

/** `0x80004005`: the code as eight hex digits. */
export function formatHResult(hresult: number): string {
  return `0x${(hresult >>> 0).toString(16).padStart(8, '0')}`;
}

/**
 * Wraps a koffi function that returns an HRESULT: a failure (negative) throws {@link HResultError}, a
 * success returns the code (`S_OK` is 0, `S_FALSE` 1). Its `async` variant checks the same way.
 */
export function checkHResult<F extends (...args: never[]) => unknown>(name: string, fn: F): F {
  const check = (result: unknown): unknown => {
    if (typeof result === 'number' && result < 0) throw hresultError(name, result);
    return result;
  };
  const wrapped = ((...args: Parameters<F>) => check(fn(...args))) as unknown as F & {
    async?: (...args: unknown[]) => void;
  };
  const original = (fn as unknown as { async?: (...args: unknown[]) => void }).async;
  if (typeof original === 'function') {
    wrapped.async = (...args: unknown[]) => {
      const callback = args.pop() as (error: unknown, value?: unknown) => void;
      original.call(fn, ...args, (error: unknown, value: unknown) => {
        if (error) callback(error);
        else if (typeof value === 'number' && value < 0) callback(hresultError(name, value));
        else callback(null, value);
      });
    };
  }
  Object.defineProperty(wrapped, 'name', { value: name });
  return wrapped;
}

function hresultError(name: string, result: number): HResultError {
  const code = result >>> 0;
  const known = KNOWN_HRESULTS[code];
  return new HResultError(
    name,
    code,
    `${name}() failed with HRESULT ${formatHResult(code)}${known === undefined ? '' : ` (${known[0]})`}: ` +
      `${hresultMessage(code)} ` +
      "(an 'oledll' function's failure code; a success code is returned as the result)",
  );
}

function systemMessage(code: number): string | undefined {
  if (process.platform !== 'win32') return undefined;
  if (formatMessage === undefined) {
    try {
      const kernel32 = koffi.load('kernel32.dll');
      formatMessage = kernel32.func('__stdcall', 'FormatMessageW', 'uint32', [
        'uint32',
        'void *',
        'uint32',
        'uint32',
        'void *',
        'uint32',
        'void *',
      ]) as unknown as FormatMessage;
    } catch {
      formatMessage = null;
    }
  }
  if (formatMessage === null) return undefined;
  // FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS, into a buffer of 1024 UTF-16 units.
  const buffer = Buffer.alloc(2048);
  const n = formatMessage(0x1000 | 0x200, null, code, 0, buffer, 1024, null);
  if (n === 0) return undefined;
  return buffer
    .toString('utf16le', 0, n * 2)
    .trim()
    .replace(/\.$/, '');
}
